/*
 * kernel_irp.c — each thread's pending I/O: its IRPs, the current
 * IO_STACK_LOCATION, and the FILE_OBJECT (file name), DEVICE_OBJECT and
 * DRIVER_OBJECT (driver name) the request waits on (docs/kernel.md,
 * "Pending I/O"; layouts in docs/kernel_offsets.md "I/O objects").
 *
 * A thread's IRPs are found by following ETHREAD.IrpList (IRP.ThreadListEntry
 * links) through the kernel address space, which serves full and bitmap
 * dumps and the -mk triage dump alike: the live-dump writer saves the
 * ETHREAD, every IRP on that list, its stack location and the three objects
 * as data blocks (docs/formats.md D).  When the list head's offset is not
 * known for the build, or the head is absent, a triage dump's data blocks are
 * searched for IRP-shaped blocks (Type 6, Size equal to the block size and
 * to sizeof(IRP) plus whole stack locations) that name the thread.
 * Every object is checked by its own Type (and Size) before it is believed;
 * walks are bounded; what is missing or mistyped becomes a warning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/kernel_dump_internal.h"

enum { IRP_TYPE = 6, DEVICE_TYPE = 3, DRIVER_TYPE = 4, FILE_TYPE = 5 };
#define MAX_LIST_STEPS 64u     /* list entries visited per thread */
#define MAX_NAME_BYTES 1024u   /* UNICODE_STRING bytes read for one name */
#define MAX_STACK_COUNT 32     /* IRP.StackCount: the kernel allows far fewer devices */

static bool rd16(const dt_addrspace *as, uint64_t va, uint16_t *out)
{
    uint8_t b[2];
    if (!dt_as_read_exact(as, va, b, 2))
        return false;
    *out = (uint16_t)(b[0] | b[1] << 8);
    return true;
}

/* The UNICODE_STRING at us (Length u16, MaximumLength u16, Buffer at +8).
 * A Length past MaximumLength or past the bytes the dump holds is cut, with
 * a warning naming what it belongs to. */
static bool read_name(dt_kernel_dump *kd, uint64_t us, const char *what, uint64_t owner, char *out, size_t cap)
{
    const dt_addrspace *as = &kd->as;
    out[0] = '\0';
    uint16_t len = 0, max = 0;
    uint64_t buf = 0;
    if (!rd16(as, us, &len) || !rd16(as, us + 2, &max) || !dt_as_u64(as, us + 8, &buf) || !len || !buf)
        return false;
    uint32_t want = len & ~1u;
    if (len > max) {
        dt_warn(&kd->warnings, "%s of 0x%llx: Length %u is past its MaximumLength %u; read up to %u bytes", what,
                (unsigned long long)owner, len, max, max & ~1u);
        want = max & ~1u;
    }
    if (want > MAX_NAME_BYTES)
        want = MAX_NAME_BYTES;
    uint8_t tmp[MAX_NAME_BYTES];
    size_t got = dt_as_read(as, buf, tmp, want) & ~(size_t)1;
    if (got < want)
        dt_warn(&kd->warnings, "%s of 0x%llx: the dump holds %zu of its %u bytes at 0x%llx%s", what,
                (unsigned long long)owner, got, want, (unsigned long long)buf, got ? "; name cut" : "");
    if (!got)
        return false;
    dt_kernel_utf16_to_utf8(tmp, got, out, cap);
    return out[0] != '\0';
}

/* True when the object at va is in the dump with this Type (u16 at +0) and
 * at least min_size (u16 Size at +2, when min_size is not 0). */
static bool typed_object(dt_kernel_dump *kd, uint64_t va, uint16_t type, uint32_t min_size, const char *what,
                         uint64_t irp)
{
    uint16_t t = 0, size = 0;
    if (!rd16(&kd->as, va, &t) || !rd16(&kd->as, va + 2, &size)) {
        dt_warn(&kd->warnings, "%s 0x%llx of IRP 0x%llx is not in the dump", what, (unsigned long long)va,
                (unsigned long long)irp);
        return false;
    }
    if (t != type || (min_size && size < min_size)) {
        dt_warn(&kd->warnings, "%s 0x%llx of IRP 0x%llx has Type %u Size 0x%x, not a %s (Type %u); ignored", what,
                (unsigned long long)va, (unsigned long long)irp, t, size, what, type);
        return false;
    }
    return true;
}

static uint64_t ptr_at(const uint8_t *b, uint32_t off)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[off + (unsigned)i];
    return v;
}
static uint32_t u32_at(const uint8_t *b, uint32_t off)
{
    return (uint32_t)b[off] | (uint32_t)b[off + 1] << 8 | (uint32_t)b[off + 2] << 16 | (uint32_t)b[off + 3] << 24;
}

/* The driver of a device, when both objects are in the dump with their Types. */
static uint64_t device_driver(dt_kernel_dump *kd, const dt_kernel_io_offsets *io, uint64_t device, uint64_t irp,
                              int64_t *device_type)
{
    uint64_t drv = 0;
    uint32_t dt;
    if (!device || !typed_object(kd, device, DEVICE_TYPE, 0, "DEVICE_OBJECT", irp))
        return 0;
    if (device_type && dt_as_u32(&kd->as, device + io->device_type, &dt))
        *device_type = dt;
    if (!dt_as_u64(&kd->as, device + io->device_driver_object, &drv) || !drv ||
        !typed_object(kd, drv, DRIVER_TYPE, 0, "DRIVER_OBJECT", irp))
        return 0;
    return drv;
}

/* The devices the IRP went through, top of the stack first: stack
 * locations StackCount down to CurrentLocation (the one holding it).  The
 * -mk writer saves the whole IRP, so every location is in the dump, but
 * only the current location's device and driver objects. */
static void device_stack(dt_kernel_dump *kd, const dt_kernel_io_offsets *io, dt_kernel_irp *r)
{
    for (int loc = r->stack_count; loc >= r->current_location && r->device_count < DT_KERNEL_IRP_MAX_DEVICES;
         loc--) {
        uint64_t sl = r->irp + io->irp_size + (uint64_t)(loc - 1) * io->stack_size, dev = 0;
        if (!dt_as_u64(&kd->as, sl + io->stack_device_object, &dev) || !dev)
            continue;
        dt_kernel_irp_device *d = &r->devices[r->device_count++];
        memset(d, 0, sizeof *d);
        d->device = dev;
        /* Objects of devices other than the holder are usually absent: that
         * is the writer's choice, not damage, so no warning for them. */
        uint16_t type = 0;
        uint64_t drv = 0;
        if (dev == r->device_object) {
            d->driver = r->driver_object;
            memcpy(d->driver_name, r->driver_name, sizeof d->driver_name);
        } else if (rd16(&kd->as, dev, &type) && type == DEVICE_TYPE &&
                   dt_as_u64(&kd->as, dev + io->device_driver_object, &drv) && rd16(&kd->as, drv, &type) &&
                   type == DRIVER_TYPE) {
            d->driver = drv;
            read_name(kd, drv + io->driver_name, "DriverName", drv, d->driver_name, sizeof d->driver_name);
        }
    }
}

static void read_stack_location(dt_kernel_dump *kd, const dt_kernel_io_offsets *io, dt_kernel_irp *r,
                                uint64_t sl)
{
    uint8_t s[0x48];
    if (io->stack_size > sizeof s || !dt_as_read_exact(&kd->as, sl, s, io->stack_size)) {
        dt_warn(&kd->warnings, "the current stack location 0x%llx of IRP 0x%llx is not in the dump",
                (unsigned long long)sl, (unsigned long long)r->irp);
        return;
    }
    uint64_t expect = r->irp + io->irp_size + (uint64_t)(r->current_location - 1) * io->stack_size;
    if (sl != expect)
        dt_warn(&kd->warnings,
                "IRP 0x%llx: CurrentStackLocation 0x%llx is not location %d (0x%llx); the pointer is followed",
                (unsigned long long)r->irp, (unsigned long long)sl, r->current_location,
                (unsigned long long)expect);
    r->stack_location = sl;
    r->major = s[0];
    r->minor = s[1];
    uint32_t p = io->stack_parameters;
    switch (r->major) {
    case 0x03: /* IRP_MJ_READ: Parameters.Read.Length */
    case 0x04: /* IRP_MJ_WRITE */
        r->has_length = true;
        r->length = u32_at(s, p);
        break;
    case 0x0d: /* IRP_MJ_FILE_SYSTEM_CONTROL: FsControlCode for user and kernel requests */
        if (r->minor != 0 && r->minor != 4)
            break;
        /* fall through */
    case 0x0e: /* IRP_MJ_DEVICE_CONTROL: OutputBufferLength, IoControlCode */
    case 0x0f: /* IRP_MJ_INTERNAL_DEVICE_CONTROL */
        r->has_length = true;
        r->length = u32_at(s, p);
        r->has_code = true;
        r->code = u32_at(s, p + 0x10);
        break;
    default:
        break;
    }
    r->file_object = ptr_at(s, io->stack_file_object);
    r->device_object = ptr_at(s, io->stack_device_object);
}

/* Reads the IRP at va for thread t; false when it is not one. */
static bool read_irp(dt_kernel_dump *kd, const dt_kernel_io_offsets *io, dt_kernel_thread *t, uint64_t va,
                     dt_kernel_irp *r)
{
    uint8_t h[0xd0];
    memset(r, 0, sizeof *r);
    r->irp = va;
    r->major = r->minor = r->requestor_mode = -1;
    r->device_type = -1;
    if (io->irp_size > sizeof h || !dt_as_read_exact(&kd->as, va, h, io->irp_size)) {
        dt_warn(&kd->warnings, "IRP 0x%llx of thread %llu is not in the dump", (unsigned long long)va,
                (unsigned long long)t->tid);
        return false;
    }
    uint16_t type = (uint16_t)(h[0] | h[1] << 8);
    r->size = (uint16_t)(h[2] | h[3] << 8);
    if (type != IRP_TYPE || r->size < io->irp_size) {
        dt_warn(&kd->warnings, "object 0x%llx on the IRP list of thread %llu has Type %u Size 0x%x, not an IRP; skipped",
                (unsigned long long)va, (unsigned long long)t->tid, type, r->size);
        return false;
    }
    r->thread = ptr_at(h, io->irp_thread);
    if (t->ethread && r->thread != t->ethread)
        dt_warn(&kd->warnings, "IRP 0x%llx on the list of thread %llu names thread 0x%llx as its issuer",
                (unsigned long long)va, (unsigned long long)t->tid, (unsigned long long)r->thread);
    r->flags = u32_at(h, io->irp_flags);
    r->requestor_mode = h[io->irp_requestor_mode];
    r->pending_returned = h[io->irp_pending_returned] != 0;
    r->stack_count = (int8_t)h[io->irp_stack_count];
    r->current_location = (int8_t)h[io->irp_current_location];
    r->cancel = h[io->irp_cancel] != 0;
    if (r->stack_count < 1 || r->stack_count > MAX_STACK_COUNT ||
        r->irp + io->irp_size + (uint64_t)r->stack_count * io->stack_size < r->irp) {
        dt_warn(&kd->warnings, "IRP 0x%llx has StackCount %d; its stack locations are not read",
                (unsigned long long)va, r->stack_count);
        return true;
    }
    /* CurrentLocation is StackCount + 1 before the IRP is first sent, and
     * the writer saves a stack location only when it is ≤ StackCount. */
    if (r->current_location < 1 || r->current_location > r->stack_count) {
        if (r->current_location != r->stack_count + 1)
            dt_warn(&kd->warnings, "IRP 0x%llx has CurrentLocation %d of %d stack locations", (unsigned long long)va,
                    r->current_location, r->stack_count);
        return true;
    }
    uint64_t sl = ptr_at(h, io->irp_current_stack_location);
    if (sl)
        read_stack_location(kd, io, r, sl);
    if (r->file_object && typed_object(kd, r->file_object, FILE_TYPE, 0, "FILE_OBJECT", va))
        r->has_file_name =
            read_name(kd, r->file_object + io->file_name, "FileName", r->file_object, r->file_name, sizeof r->file_name);
    r->driver_object = device_driver(kd, io, r->device_object, va, &r->device_type);
    if (r->driver_object) {
        read_name(kd, r->driver_object + io->driver_name, "DriverName", r->driver_object, r->driver_name,
                  sizeof r->driver_name);
        dt_as_u64(&kd->as, r->driver_object + io->driver_start, &r->driver_start);
    }
    device_stack(kd, io, r);
    return true;
}

static dt_kernel_irp *new_irp(dt_kernel_thread *t)
{
    if (t->irp_count >= DT_KERNEL_MAX_IRPS)
        return NULL;
    if (!t->irps) {
        t->irps = calloc(DT_KERNEL_MAX_IRPS, sizeof *t->irps);
        if (!t->irps)
            return NULL;
    }
    return &t->irps[t->irp_count];
}

/* ETHREAD.IrpList; false when the list head is not readable. */
static bool walk_irp_list(dt_kernel_dump *kd, const dt_kernel_io_offsets *io, dt_kernel_thread *t)
{
    uint32_t off = kd->offsets.ethread_irp_list;
    uint64_t head = t->ethread + off, e = 0;
    if (off == DT_OFF_UNKNOWN || !t->ethread || !dt_as_u64(&kd->as, head, &e))
        return false;
    t->irp_source = "irp_list";
    uint64_t seen[MAX_LIST_STEPS], prev = head;
    size_t n = 0;
    while (e != head) {
        if (!e) {
            dt_warn(&kd->warnings, "IRP list of thread %llu ends in a null link", (unsigned long long)t->tid);
            break;
        }
        for (size_t k = 0; k < n; k++)
            if (seen[k] == e) {
                dt_warn(&kd->warnings, "IRP list of thread %llu loops back to 0x%llx after %zu entries; stopped",
                        (unsigned long long)t->tid, (unsigned long long)e, n);
                return true;
            }
        if (n == MAX_LIST_STEPS) {
            dt_warn(&kd->warnings, "IRP list of thread %llu cut after %u entries", (unsigned long long)t->tid,
                    MAX_LIST_STEPS);
            break;
        }
        seen[n++] = e;
        uint64_t blink = 0;
        if (!dt_as_u64(&kd->as, e + 8, &blink) || blink != prev) {
            dt_warn(&kd->warnings, "IRP list of thread %llu is inconsistent at 0x%llx (entry %zu); stopped",
                    (unsigned long long)t->tid, (unsigned long long)e, n);
            break;
        }
        dt_kernel_irp *r = new_irp(t);
        if (!r) {
            dt_warn(&kd->warnings, "thread %llu: more than %d IRPs; the rest are not listed",
                    (unsigned long long)t->tid, DT_KERNEL_MAX_IRPS);
            break;
        }
        if (read_irp(kd, io, t, e - io->irp_thread_list_entry, r))
            t->irp_count++;
        prev = e;
        if (!dt_as_u64(&kd->as, e, &e)) {
            dt_warn(&kd->warnings, "IRP list of thread %llu breaks after %zu entries (entry not in the dump)",
                    (unsigned long long)t->tid, n);
            break;
        }
    }
    return true;
}

/* Triage dumps without a usable IrpList: IRP-shaped data blocks naming t. */
static void scan_irp_blocks(dt_kernel_dump *kd, const dt_kernel_io_offsets *io, dt_kernel_thread *t)
{
    t->irp_source = "data_blocks";
    for (size_t i = 0; i < kd->triage.block_count; i++) {
        const dt_triage_block *b = &kd->triage.blocks[i];
        dt_view v;
        uint16_t type, size;
        uint64_t thread;
        if (b->size < io->irp_size || (b->size - io->irp_size) % io->stack_size ||
            !dt_view_sub(kd->file, b->file_offset, b->size, &v) || !dt_view_u16(v, 0, &type) ||
            !dt_view_u16(v, 2, &size) || type != IRP_TYPE || size != b->size ||
            !dt_view_u64(v, io->irp_thread, &thread) || thread != t->ethread)
            continue;
        dt_kernel_irp *r = new_irp(t);
        if (!r)
            break;
        if (read_irp(kd, io, t, b->va, r))
            t->irp_count++;
    }
}

void dt_kernel_collect_irps(dt_kernel_dump *kd)
{
    if (kd->as.pointer_size != 8)
        return;
    dt_kernel_io_offsets io = kd->offsets.io;
    if (io.irp_size == DT_OFF_UNKNOWN)
        dt_kernel_io_offsets_64(&io);
    for (size_t i = 0; i < kd->thread_count; i++) {
        dt_kernel_thread *t = &kd->threads[i];
        if (!t->ethread)
            continue;
        if (!walk_irp_list(kd, &io, t) && kd->is_triage)
            scan_irp_blocks(kd, &io, t);
    }
}

const char *dt_kernel_irp_major_name(int major)
{
    static const char *const names[] = {
        "IRP_MJ_CREATE", "IRP_MJ_CREATE_NAMED_PIPE", "IRP_MJ_CLOSE", "IRP_MJ_READ", "IRP_MJ_WRITE",
        "IRP_MJ_QUERY_INFORMATION", "IRP_MJ_SET_INFORMATION", "IRP_MJ_QUERY_EA", "IRP_MJ_SET_EA",
        "IRP_MJ_FLUSH_BUFFERS", "IRP_MJ_QUERY_VOLUME_INFORMATION", "IRP_MJ_SET_VOLUME_INFORMATION",
        "IRP_MJ_DIRECTORY_CONTROL", "IRP_MJ_FILE_SYSTEM_CONTROL", "IRP_MJ_DEVICE_CONTROL",
        "IRP_MJ_INTERNAL_DEVICE_CONTROL", "IRP_MJ_SHUTDOWN", "IRP_MJ_LOCK_CONTROL", "IRP_MJ_CLEANUP",
        "IRP_MJ_CREATE_MAILSLOT", "IRP_MJ_QUERY_SECURITY", "IRP_MJ_SET_SECURITY", "IRP_MJ_POWER",
        "IRP_MJ_SYSTEM_CONTROL", "IRP_MJ_DEVICE_CHANGE", "IRP_MJ_QUERY_QUOTA", "IRP_MJ_SET_QUOTA", "IRP_MJ_PNP",
    };
    return major >= 0 && (size_t)major < sizeof names / sizeof names[0] ? names[major] : NULL;
}

const char *dt_kernel_device_type_name(int64_t type)
{
    static const struct {
        int64_t type;
        const char *name;
    } t[] = {
        { 0x02, "FILE_DEVICE_CD_ROM" },          { 0x07, "FILE_DEVICE_DISK" },
        { 0x08, "FILE_DEVICE_DISK_FILE_SYSTEM" }, { 0x09, "FILE_DEVICE_FILE_SYSTEM" },
        { 0x0b, "FILE_DEVICE_KEYBOARD" },        { 0x0c, "FILE_DEVICE_MAILSLOT" },
        { 0x0f, "FILE_DEVICE_MOUSE" },           { 0x10, "FILE_DEVICE_MULTI_UNC_PROVIDER" },
        { 0x11, "FILE_DEVICE_NAMED_PIPE" },      { 0x12, "FILE_DEVICE_NETWORK" },
        { 0x14, "FILE_DEVICE_NETWORK_FILE_SYSTEM" }, { 0x15, "FILE_DEVICE_NULL" },
        { 0x1b, "FILE_DEVICE_SERIAL_PORT" },     { 0x21, "FILE_DEVICE_TRANSPORT" },
        { 0x22, "FILE_DEVICE_UNKNOWN" },         { 0x2d, "FILE_DEVICE_MASS_STORAGE" },
        { 0x50, "FILE_DEVICE_CONSOLE" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].type == type)
            return t[i].name;
    return NULL;
}

const char *dt_kernel_io_code_name(uint32_t code)
{
    /* winioctl.h (FSCTL_PIPE_*) and the AFD control codes
     * ((0x12 << 12) | request << 2 | method) as ReactOS's afd/shared.h
     * declares them; docs/kernel.md lists the sources. */
    static const struct {
        uint32_t code;
        const char *name;
    } c[] = {
        { 0x110000, "FSCTL_PIPE_ASSIGN_EVENT" }, { 0x110004, "FSCTL_PIPE_DISCONNECT" },
        { 0x110008, "FSCTL_PIPE_LISTEN" },       { 0x11400c, "FSCTL_PIPE_PEEK" },
        { 0x110018, "FSCTL_PIPE_WAIT" },         { 0x11c017, "FSCTL_PIPE_TRANSCEIVE" },
        { 0x12003, "IOCTL_AFD_BIND" },           { 0x12007, "IOCTL_AFD_CONNECT" },
        { 0x1200b, "IOCTL_AFD_START_LISTEN" },   { 0x1200c, "IOCTL_AFD_WAIT_FOR_LISTEN" },
        { 0x12010, "IOCTL_AFD_ACCEPT" },         { 0x12017, "IOCTL_AFD_RECV" },
        { 0x1201b, "IOCTL_AFD_RECV_DATAGRAM" },  { 0x1201f, "IOCTL_AFD_SEND" },
        { 0x12023, "IOCTL_AFD_SEND_DATAGRAM" },  { 0x12024, "IOCTL_AFD_SELECT" },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        if (c[i].code == code)
            return c[i].name;
    return NULL;
}
