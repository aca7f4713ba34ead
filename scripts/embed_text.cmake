# embed_text.cmake — writes a C header defining NAME as the text of IN, so a
# data file (triage.rules) ships inside the binary.
# Usage: cmake -DIN=file -DOUT=header.h -DNAME=MACRO -P embed_text.cmake
file(READ "${IN}" text)
string(REPLACE "\\" "\\\\" text "${text}")
string(REPLACE "\"" "\\\"" text "${text}")
string(REPLACE "\n" "\\n\"\n\"" text "${text}")
file(WRITE "${OUT}.tmp" "/* generated from ${IN} — do not edit */\nstatic const char ${NAME}[] =\n\"${text}\";\n")
file(RENAME "${OUT}.tmp" "${OUT}")
