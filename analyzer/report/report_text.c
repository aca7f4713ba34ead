/*
 * report_text.c — dt_report_text (report_text.h): the whole document as
 * text, in the order a support engineer reads it: the user part (the
 * process as captured), the kernel part (what the kernel says of it), then
 * the triage that joins them.
 */
#include "report/report_text.h"

#include "base/json.h"
#include "report/kernel_report.h"
#include "report/user_report.h"

void dt_report_text(const cJSON *doc, FILE *out)
{
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(doc, "user");
    const cJSON *kernel = cJSON_GetObjectItemCaseSensitive(doc, "kernel");
    const cJSON *triage = cJSON_GetObjectItemCaseSensitive(doc, "triage");
    const char *user_path = dt_json_get_str(cJSON_GetObjectItemCaseSensitive(doc, "inputs"), "user");
    fprintf(out, "%s — ", dt_or(dt_json_get_str(doc, "generator"), "dumptriage"));
    if (user_path)
        fprintf(out, "user dump %s", user_path);
    fprintf(out, "\n\n");
    bool have_user = cJSON_IsObject(user);
    if (have_user)
        dt_user_report_text(user, out);
    if (cJSON_IsObject(kernel)) {
        if (have_user)
            fputc('\n', out);
        dt_kernel_report_text(kernel, out);
    }
    if (cJSON_IsObject(triage))
        dt_triage_text(triage, out);
}
