/*
 * dt_test.h — helpers shared by the Check unit tests: where test data lives
 * and a main() that runs one suite.
 */
#ifndef DT_TEST_H
#define DT_TEST_H

#include <check.h>
#include <stddef.h>

/* Absolute path of a file under tests/data (static buffer, per-call). */
const char *dt_test_data(const char *relative);
/* Path of the built `dumptriage` binary (from the DT_BIN environment). */
const char *dt_test_bin(void);
/* Reads a whole file into a malloc'd buffer (caller frees); NULL on error. */
unsigned char *dt_test_read_file(const char *path, size_t *size);
/* Records that the calling test could not check what it is for (a tool its
 * bootstrap installs is missing, say): prints why to stderr.  The test should
 * return right after.  Works from Check's forked children too. */
void dt_test_skip(const char *why);
/* Runs the suite; returns the process exit status: 1 when a test failed,
 * else 77 (ctest's SKIP_RETURN_CODE) when one was skipped, else 0. */
int dt_test_run(Suite *s);

#define DT_TEST_MAIN(suite_fn) \
    int main(void) { return dt_test_run(suite_fn()); }

#endif
