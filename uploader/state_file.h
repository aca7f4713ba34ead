/*
 * state_file.h — what lets an interrupted `dumptriage upload` continue: the
 * case upload id and each file's tus URL, in a small text file named after
 * the run's inputs (server, files with size and mtime, text fields), under
 * $DT_UPLOAD_STATE_DIR, else $XDG_STATE_HOME/dumptriage, else
 * ~/.local/state/dumptriage.  The offsets themselves are asked from the
 * server (HEAD), which alone knows what is durable.
 */
#ifndef DT_UPLOADER_STATE_FILE_H
#define DT_UPLOADER_STATE_FILE_H

#define DT_UP_MAX_FILES 2

typedef struct {
    char path[1024];                        /* the state file */
    char case_upload[40];
    char location[DT_UP_MAX_FILES][256];    /* "" until created */
} dt_up_state;

/* Names the state file after key and loads it if present (1 loaded, 0 new). */
int dt_up_state_open(dt_up_state *s, const char *key);
/* Writes it (atomically: temp file + rename); 0 ok. */
int dt_up_state_save(const dt_up_state *s);
void dt_up_state_remove(const dt_up_state *s);

#endif
