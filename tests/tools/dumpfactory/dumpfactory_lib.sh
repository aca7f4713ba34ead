# dumpfactory_lib.sh - what the single-program dump scripts (make_*_dump.sh,
# make_series.sh) share: the clean environment, the private Wine prefix and
# its clean-up, the clang + lld build with a PDB, dumper.exe, and starting a
# program and dumping it.  Sourced, not run.  build_and_dump.sh keeps its own
# copy of these steps because it builds the whole corpus with both compilers.
#
# Why each step is the way it is (README.md, "Path hygiene"): the outputs
# are committed, and the environment block of the dumped process is inside
# the dump, so the scripts run under `env -i` with a neutral WINEROOT, build
# from a scratch directory by relative path, and stop only the processes
# they started (by PID) and their own prefix's wineserver.
#
# Use:
#   source "$HERE/dumpfactory_lib.sh"
#   df_clean_env wpNN "$@"              # re-runs the script under env -i
#   df_setup "$1" name                  # OUT, BIN, LOG, WORK, WP, W, cleanup
#   df_build_dumper                     # $WORK/build/dumper.exe
#   df_clang prog -O1 [link args...]    # $BIN/clang/prog.exe + prog.pdb
#   df_clang_dll lib -O1                # $BIN/clang/lib.dll + lib.pdb
#   df_wine_prefix file...              # prefix made, files copied to $WIN
#   df_start prog                       # runs prog.exe, waits for "ready"
#   df_dump prog dumpname               # dumper.exe hang -> $WIN/dumps/dumpname.dmp

# df_clean_env WINEROOT_NAME "$@" — re-executes the calling script under a
# minimal, fixed environment (WINEROOT defaults to $TMPDIR/WINEROOT_NAME).
df_clean_env() {
    local root=$1
    shift
    if [ "${DUMPFACTORY_ENV:-}" != clean ]; then
        exec env -i DUMPFACTORY_ENV=clean PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
            TMPDIR="${TMPDIR:-/tmp}" KEEP_PREFIX="${KEEP_PREFIX:-0}" \
            WINEROOT="${WINEROOT:-${TMPDIR:-/tmp}/$root}" bash "$0" "$@"
    fi
}

# df_setup OUTDIR WORKNAME — the output directories, a scratch build
# directory and the private Wine HOME (which must not exist yet); removes
# both at exit unless KEEP_PREFIX=1, after stopping what it started.
df_setup() {
    OUT=$(mkdir -p "${1:?usage: $(basename "$0") OUTDIR}" && cd "$1" && pwd)
    BIN="$OUT/bin"
    LOG="$OUT/logs"
    mkdir -p "$BIN/clang" "$LOG"
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/$2.XXXXXX")
    WP=$WINEROOT
    mkdir "$WP" || {
        echo "WINEROOT $WP already exists; remove it or set WINEROOT" >&2
        rm -rf "$WORK"
        exit 1
    }
    mkdir -p "$WORK/build"
    export HOME="$WP"   # the prefix is the default $HOME/.wine
    unset WINEPREFIX
    WENV=(env -i PATH=/usr/bin:/bin LANG=C.UTF-8 HOME="$WP" WINEDEBUG=-all WINEARCH=win64
          WINEDLLOVERRIDES="mscoree,mshtml=")   # no Mono/Gecko install prompts
    STARTED=()
    LIBGCC_DIR=$(dirname "$(x86_64-w64-mingw32-gcc -print-libgcc-file-name)")
    trap df_cleanup EXIT
}

W() { "${WENV[@]}" "$@"; }

df_cleanup() {
    local pid
    for pid in "${STARTED[@]}"; do kill "$pid" 2>/dev/null || true; done
    W wineserver -k 2>/dev/null || true   # only this prefix's server
    if [ "${KEEP_PREFIX:-0}" != 1 ]; then rm -rf "$WORK" "$WP"; else echo "kept $WORK $WP"; fi
}

# df_build_dumper — dumper.exe (gcc; procdump-like MiniDumpWriteDump flags).
df_build_dumper() {
    cp "$DF_HERE/src/dumper.c" "$WORK/build/"
    (cd "$WORK/build" &&
        x86_64-w64-mingw32-gcc -O1 -Wall -g -ffile-prefix-map="$WORK/build"=. -Wl,--build-id \
            -o dumper.exe dumper.c -ldbghelp)
}

# df_compile NAME OPT — NAME.o from src/NAME.c (or NAME.c beside this file).
df_compile() {
    local src="$DF_HERE/src/$1.c"
    [ -f "$src" ] || src="$DF_HERE/$1.c"
    cp "$src" "$WORK/build/"
    (cd "$WORK/build" &&
        clang --target=x86_64-w64-windows-gnu -g -gcodeview -ffile-compilation-dir=. "$2" -Wall -c -o "$1.o" "$1.c")
}

# df_clang NAME OPT [LINK ARGS...] — NAME.exe and NAME.pdb into $BIN/clang.
df_clang() {
    local name=$1 opt=$2
    shift 2
    df_compile "$name" "$opt"
    (cd "$WORK/build" &&
        clang --target=x86_64-w64-windows-gnu -fuse-ld=lld -L"$LIBGCC_DIR" -Wl,-Xlink=-pdbaltpath:%_PDB% \
            '-Wl,-Xlink=-pdbsourcepath:C:\build' -o "$name.exe" "$name.o" -Wl,--pdb="$name.pdb" "$@" &&
        cp "$name.exe" "$name.pdb" "$BIN/clang/")
}

# df_clang_dll NAME OPT — NAME.dll and NAME.pdb into $BIN/clang.
df_clang_dll() {
    df_compile "$1" "$2"
    (cd "$WORK/build" &&
        clang --target=x86_64-w64-windows-gnu -fuse-ld=lld -shared -L"$LIBGCC_DIR" -Wl,-Xlink=-pdbaltpath:%_PDB% \
            '-Wl,-Xlink=-pdbsourcepath:C:\build' -o "$1.dll" "$1.o" -Wl,--pdb="$1.pdb" &&
        cp "$1.dll" "$1.pdb" "$BIN/clang/")
}

# df_wine_prefix FILE... — a fresh win10 prefix; the files are copied to
# C:\dumpfactory ($WIN), the dumps go to C:\dumpfactory\dumps.
df_wine_prefix() {
    cd "$WP"
    W wineboot --init >"$WORK/wineboot.log" 2>&1 || true
    W wine reg add 'HKCU\Software\Wine' /v Version /t REG_SZ /d win10 /f >>"$WORK/wineboot.log" 2>&1
    W wineserver -w
    WIN="$WP/.wine/drive_c/dumpfactory"
    mkdir -p "$WIN/dumps"
    cp "$@" "$WIN/"
}

# df_wait_for FILE PATTERN SECONDS
df_wait_for() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "timed out waiting for '$2' in $1" >&2
    cat "$1" >&2 2>/dev/null || true
    return 1
}

# df_start NAME — runs NAME.exe in the background (output in $LOG/NAME.out)
# and waits until it prints "ready".
df_start() {
    (cd "$WIN" && exec "${WENV[@]}" wine "$1.exe" >"$LOG/$1.out" 2>&1) &
    STARTED+=($!)
    df_wait_for "$LOG/$1.out" '^ready' 60
}

# df_dump NAME DUMPNAME — `dumper.exe hang` (procdump -ma flags) of the
# running NAME.exe into $WIN/dumps/DUMPNAME.dmp; its output is appended to
# $LOG/NAME.dumper.txt.
df_dump() {
    (cd "$WIN" && W wine dumper.exe hang "$1.exe" "C:\\dumpfactory\\dumps\\$2.dmp") | tee -a "$LOG/$1.dumper.txt"
}

DF_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
