/*
 * triage_blocks.h — TEST-ONLY: add memory to a kernel triage dump as extra
 * TRIAGE_DATA_BLOCKs (docs/formats.md C.3), the way the kernel's triage
 * writer adds memory around pointers it finds interesting.
 */
#ifndef DT_TEST_TRIAGE_BLOCKS_H
#define DT_TEST_TRIAGE_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

/* Returns a new malloc'd dump (*size updated) with the bytes at va added;
 * the old buffer is freed.  The data-block array is rewritten at the end of
 * the file (DataBlocksOffset/Count updated); existing blocks keep their
 * offsets.  NULL on OOM (the old buffer is then freed too). */
uint8_t *dt_tb_add_block(uint8_t *dump, size_t *size, uint64_t va, const uint8_t *bytes, uint32_t len);

#endif
