/*
 * generated_code.h — what a minidump says about code outside its modules,
 * gathered for the stack walker (unwind/stackwalk.h dt_generated_code):
 * the FunctionTable stream's dynamic function tables and the executable
 * regions of the MemoryInfoList.  A separate file because it joins two
 * streams for one walker input and owns the memory they need.
 */
#ifndef DT_REPORT_GENERATED_CODE_H
#define DT_REPORT_GENERATED_CODE_H

#include "formats/minidump.h"
#include "unwind/stackwalk.h"

typedef struct {
    dt_generated_code code;          /* what the walker reads */
    dt_md_function_tables tables;    /* owned */
    dt_code_region *regions;         /* owned, sorted by base */
} dt_generated_code_info;

/* Fills g from md (nothing found is not an error); problems with the
 * FunctionTable stream become warnings in w.  Free with
 * dt_generated_code_info_free. */
void dt_generated_code_info_init(dt_generated_code_info *g, const dt_minidump *md, dt_warnings *w);
void dt_generated_code_info_free(dt_generated_code_info *g);

#endif
