/*
 * io_wait.c — what a thread blocked in an I/O system call waits for: the
 * pending IRP of its kernel thread (report kernel threads[].irps[], from a
 * -mk dump's saved IRPs or ETHREAD.IrpList), the driver that holds it, the
 * file, and what kind of I/O that driver serves (`io_driver` rules in
 * triage.rules: console, named pipes, sockets, SMB…).  A driver no rule
 * names is called a third-party driver; the drivers of devices above the
 * holder are the filters the IRP went through.  docs/triage.md, "Pending
 * I/O".
 *
 * Kept apart from triage.c so that verdicts only ask for a phrase and the
 * thread's "io" object; the facts come from the report's JSON, as
 * everywhere in triage.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/json.h"
#include "triage/triage_internal.h"

/* The IRP major function each synchronous I/O service waits on. */
static int syscall_major(const char *syscall)
{
    static const struct {
        const char *name;
        int major;
    } s[] = {
        { "NtCreateFile", 0x00 },          { "NtOpenFile", 0x00 },           { "NtCreateNamedPipeFile", 0x01 },
        { "NtReadFile", 0x03 },            { "NtReadFileScatter", 0x03 },    { "NtWriteFile", 0x04 },
        { "NtWriteFileGather", 0x04 },     { "NtQueryInformationFile", 0x05 }, { "NtSetInformationFile", 0x06 },
        { "NtFlushBuffersFile", 0x09 },    { "NtQueryDirectoryFile", 0x0c }, { "NtQueryDirectoryFileEx", 0x0c },
        { "NtNotifyChangeDirectoryFile", 0x0c }, { "NtFsControlFile", 0x0d }, { "NtDeviceIoControlFile", 0x0e },
        { "NtLockFile", 0x11 },
    };
    const char *n = syscall;
    if (strncmp(n, "Zw", 2) == 0) /* the Zw stubs are the same services */
        n += 2;
    else if (strncmp(n, "Nt", 2) == 0)
        n += 2;
    else
        return -1;
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        if (strcasecmp(s[i].name + 2, n) == 0)
            return s[i].major;
    return -1;
}

/* "\\Driver\\condrv" → "condrv", "\\FileSystem\\Npfs" → "npfs". */
static void driver_short(const char *name, char *out, size_t cap)
{
    const char *b = strrchr(name, '\\');
    b = b ? b + 1 : name;
    size_t i = 0;
    for (; b[i] && i + 1 < cap; i++)
        out[i] = (char)tolower((unsigned char)b[i]);
    out[i] = '\0';
}

void dt_triage_io_analyse(const dt_rules *r, dt_tthread *t)
{
    t->io_irp = NULL;
    t->io_rule = NULL;
    t->io_driver[0] = '\0';
    const cJSON *irps = t->kthread ? cJSON_GetObjectItemCaseSensitive(t->kthread, "irps") : NULL;
    if (!cJSON_IsArray(irps) || cJSON_GetArraySize(irps) == 0 || !t->state || strcmp(t->state, "waiting") != 0)
        return;
    int want = t->syscall[0] ? syscall_major(t->syscall) : -1;
    const cJSON *irp;
    cJSON_ArrayForEach(irp, irps)
    {
        double major;
        if (want >= 0 && dt_json_num(irp, "major_code", &major) && (int)major == want) {
            t->io_irp = irp;
            break;
        }
    }
    /* An I/O service whose IRP has another major (a read turned into a
     * device control by a filter), or a kernel-only thread: the thread's
     * newest IRP is what it waits for only when it has no other. */
    if (!t->io_irp && cJSON_GetArraySize(irps) == 1 && (want >= 0 || !t->syscall[0]))
        t->io_irp = cJSON_GetArrayItem(irps, 0);
    if (!t->io_irp)
        return;
    const char *dn = dt_json_get_str(cJSON_GetObjectItemCaseSensitive(t->io_irp, "driver"), "name");
    if (dn) {
        driver_short(dn, t->io_driver, sizeof t->io_driver);
        t->io_rule = dt_rules_match(r, DT_RULE_IO_DRIVER, t->io_driver);
    }
}

/* "IRP_MJ_DEVICE_CONTROL (IOCTL_AFD_RECV)" or "… (IOCTL 0x222003)". */
static void request_name(const cJSON *irp, char *out, size_t cap)
{
    const char *major = dt_json_get_str(irp, "major");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(irp, "code");
    int n = snprintf(out, cap, "%s", major ? major : "its request");
    if (n < 0 || (size_t)n >= cap || !cJSON_IsObject(code))
        return;
    const char *name = dt_json_get_str(code, "name"), *value = dt_json_get_str(code, "value");
    const char *kind = dt_json_get_str(code, "kind");
    if (name)
        snprintf(out + n, cap - (size_t)n, " (%s)", name);
    else if (value)
        snprintf(out + n, cap - (size_t)n, " (%s %s)", kind && strcmp(kind, "fsctl") == 0 ? "FSCTL" : "IOCTL", value);
}

bool dt_triage_io_phrase(const dt_tthread *t, const char *what, char *out, size_t cap)
{
    if (!t->io_irp || !cap)
        return false;
    const cJSON *irp = t->io_irp;
    const char *file = dt_json_get_str(cJSON_GetObjectItemCaseSensitive(irp, "file"), "name");
    const char *driver = dt_json_get_str(cJSON_GetObjectItemCaseSensitive(irp, "driver"), "name");
    char req[160];
    request_name(irp, req, sizeof req);
    size_t n = (size_t)snprintf(out, cap, "%s", what ? what : "in a synchronous I/O request");
    if (n < cap && file)
        n += (size_t)snprintf(out + n, cap - n, " of %s%s%s", t->io_rule ? t->io_rule->text : "", t->io_rule ? " " : "",
                              file);
    else if (n < cap && t->io_rule)
        n += (size_t)snprintf(out + n, cap - n, " on a %s", t->io_rule->text);
    if (n < cap) {
        if (driver)
            n += (size_t)snprintf(out + n, cap - n, ": %s%s has not completed %s", t->io_rule ? "" : "third-party driver ",
                                  driver, req);
        else
            n += (size_t)snprintf(out + n, cap - n, ": %s is pending (its driver is not in the dump)", req);
    }
    /* Filters the IRP passed on its way down (devices above the holder). */
    const cJSON *stack = cJSON_GetObjectItemCaseSensitive(irp, "device_stack"), *d;
    const char *holder_dev = dt_json_get_str(cJSON_GetObjectItemCaseSensitive(irp, "device"), "object");
    size_t filters = 0;
    cJSON_ArrayForEach(d, stack)
    {
        const char *dev = dt_json_get_str(d, "device"), *dname = dt_json_get_str(d, "driver_name");
        if (!dev || (holder_dev && strcmp(dev, holder_dev) == 0) || n >= cap)
            continue;
        n += (size_t)snprintf(out + n, cap - n, "%s%s", filters++ ? ", " : " (through ",
                              dname ? dname : dev);
    }
    if (filters && n < cap)
        snprintf(out + n, cap - n, ")");
    return true;
}

void dt_triage_io_add_json(const dt_tthread *t, cJSON *o)
{
    if (!t->io_irp)
        return;
    cJSON *io = cJSON_AddObjectToObject(o, "io");
    const cJSON *irp = t->io_irp;
    const char *keys[] = { "irp", "major" };
    for (size_t i = 0; i < 2; i++) {
        const char *v = dt_json_get_str(irp, keys[i]);
        if (v)
            cJSON_AddStringToObject(io, keys[i], v);
    }
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(irp, "code");
    if (cJSON_IsObject(code)) {
        const char *v = dt_json_get_str(code, "value"), *name = dt_json_get_str(code, "name");
        if (v)
            cJSON_AddStringToObject(io, "code", v);
        if (name)
            cJSON_AddStringToObject(io, "code_name", name);
    }
    const char *file = dt_json_get_str(cJSON_GetObjectItemCaseSensitive(irp, "file"), "name");
    const char *driver = dt_json_get_str(cJSON_GetObjectItemCaseSensitive(irp, "driver"), "name");
    const char *device = dt_json_get_str(cJSON_GetObjectItemCaseSensitive(irp, "device"), "object");
    if (file)
        cJSON_AddStringToObject(io, "file", file);
    if (device)
        cJSON_AddStringToObject(io, "device", device);
    if (driver)
        cJSON_AddStringToObject(io, "driver", driver);
    cJSON_AddStringToObject(io, "driver_kind", t->io_rule ? t->io_rule->category : driver ? "third_party" : "unknown");
    if (t->io_rule)
        cJSON_AddStringToObject(io, "driver_kind_text", t->io_rule->text);
    cJSON_AddBoolToObject(io, "cancel", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(irp, "cancel")));
}
