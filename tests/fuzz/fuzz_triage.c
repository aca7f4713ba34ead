/*
 * fuzz_triage.c — triage over arbitrary report JSON (stored reports are
 * re-triaged, and a report is only as trustworthy as the dump it came
 * from), the rules parser over arbitrary text, and symbol-path parsing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/symbol_path.h"
#include "triage/rules.h"
#include "triage/triage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    dt_rules parsed;
    if (dt_rules_parse(text, &parsed, NULL) == DT_OK)
        dt_rules_free(&parsed);
    dt_sympath path;
    if (dt_sympath_parse(text, "/tmp/cache", &path, NULL) == DT_OK)
        dt_sympath_free(&path);

    cJSON *doc = cJSON_ParseWithLength(text, size);
    if (doc) {
        dt_rules rules;
        if (dt_rules_default(&rules, NULL) == DT_OK) {
            const cJSON *user = cJSON_GetObjectItemCaseSensitive(doc, "user");
            const cJSON *kernel = cJSON_GetObjectItemCaseSensitive(doc, "kernel");
            for (int mismatch = 0; mismatch < 2; mismatch++) {
                dt_triage_options opt = { .rules = &rules, .allow_mismatch = mismatch };
                cJSON *tri = NULL;
                if (dt_triage_build(cJSON_IsObject(user) ? user : NULL, cJSON_IsObject(kernel) ? kernel : NULL,
                                    &opt, &tri, NULL) == DT_OK) {
                    char *s = cJSON_PrintUnformatted(tri);
                    free(s);
                    cJSON_Delete(tri);
                }
            }
            dt_rules_free(&rules);
        }
        cJSON_Delete(doc);
    }
    free(text);
    return 0;
}
