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
/* Runs the suite; returns the process exit status. */
int dt_test_run(Suite *s);

#define DT_TEST_MAIN(suite_fn) \
    int main(void) { return dt_test_run(suite_fn()); }

#endif
