/*
 * kernel_alpc.c — what a thread in an ALPC/LPC wait is waiting on: the port,
 * its name and the server process (and thread) behind it (docs/kernel.md
 * "ALPC waits"; layouts in docs/kernel_offsets.md "ALPC").
 *
 * The wait blocks of such a thread only name a semaphore (a client waits on
 * its own ETHREAD.AlpcWaitSemaphore, a server on the port's Semaphore), so
 * the port has to be found from the thread:
 *   WrLpcReply   ETHREAD.AlpcMessage → _KALPC_MESSAGE (its WaitingThread must
 *                be this thread) → PortQueue → _ALPC_PORT.OwnerProcess, and
 *                the message's ServerThread once a server took it — what
 *                WinDbg's !thread prints as "Waiting for reply to ALPC
 *                Message … : queued at port … : owned by process …";
 *   WrLpcReceive ETHREAD.AlpcWaitListEntry is linked into the WaitQueue of
 *                the port the thread receives on; a list entry is taken for
 *                the port's only when that port's Semaphore is the object the
 *                thread's wait block names.
 * The port's name comes from its object header (or its connection port's).
 * Everything lives in pool memory a per-process -mk triage dump does not
 * hold: absent memory leaves the wait as it was (no warning); memory that
 * is present but inconsistent (a message of another thread, a loop) is a
 * warning.  Every walk is bounded.
 */
#include <stdio.h>
#include <string.h>

#include "base/utf8.h"
#include "model/kernel_dump_internal.h"

#define WR_LPC_RECEIVE 16
#define WR_LPC_REPLY 17
#define WAITING 5
#define PROCESS_TYPE 3
#define THREAD_TYPE 6
#define MAX_WAIT_LIST 64u      /* receivers of one port visited */
#define MAX_DIRECTORY_DEPTH 8u /* object directories above a port's name */
#define MAX_NAME_BYTES 256u    /* UNICODE_STRING bytes read per path element */

static bool known(uint32_t off) { return off != DT_OFF_UNKNOWN; }

/* A kernel-mode pointer: x64 kernel addresses have the top bit set. */
static bool kaddr(uint64_t v) { return (v >> 47) == 0x1ffff; }
/* … and an object's or list entry's: 8-byte aligned. */
static bool kptr(uint64_t v) { return kaddr(v) && (v & 7) == 0; }

/* One UNICODE_STRING's text (UTF-8, dt_kernel_utf16_to_utf8),
 * false when its buffer is not in the dump. */
static bool read_unicode(const dt_addrspace *as, uint64_t us, char *out, size_t cap)
{
    uint8_t len_b[2];
    uint64_t buf = 0;
    out[0] = '\0';
    if (!dt_as_read_exact(as, us, len_b, 2) || !dt_as_u64(as, us + 8, &buf))
        return false;
    size_t len = (size_t)(len_b[0] | len_b[1] << 8) & ~(size_t)1;
    if (len > MAX_NAME_BYTES)
        len = MAX_NAME_BYTES;
    uint8_t w[MAX_NAME_BYTES];
    if (!len || !kaddr(buf) || !dt_as_read_exact(as, buf, w, len))
        return false;
    dt_kernel_utf16_to_utf8(w, len, out, cap);
    return out[0] != '\0';
}

/* The object's _OBJECT_HEADER_NAME_INFO, or 0: InfoMask bit 0x02 says it
 * is there, just before the creator info (0x01) that sits against the
 * header [GC object_header_name_info]. */
static uint64_t name_info(const dt_addrspace *as, const dt_kernel_alpc_offsets *a, uint64_t object)
{
    uint64_t header = object - a->header_body;
    uint8_t mask;
    if (!dt_as_read_exact(as, header + a->header_info_mask, &mask, 1) || !(mask & 0x02))
        return 0;
    return header - a->name_info_size - ((mask & 0x01) ? a->creator_info_size : 0);
}

/* "\\RPC Control\\name": the object's name and the directories above it,
 * as far as the dump holds them (a name whose directories are absent is
 * given alone).  False when the object has no name in the dump. */
static bool object_path(const dt_addrspace *as, const dt_kernel_alpc_offsets *a, uint64_t object, char *out,
                        size_t cap)
{
    char parts[MAX_DIRECTORY_DEPTH][128];
    size_t n = 0;
    bool rooted = false;
    uint64_t cur = object;
    while (n < MAX_DIRECTORY_DEPTH) {
        uint64_t ni = name_info(as, a, cur);
        if (!ni || !read_unicode(as, ni + a->name_info_name, parts[n], sizeof parts[n]))
            break;
        if (strcmp(parts[n], "\\") == 0) { /* the root directory */
            rooted = true;
            break;
        }
        n++;
        uint64_t dir = 0;
        if (!dt_as_u64(as, ni + a->name_info_directory, &dir) || !kptr(dir) || dir == cur)
            break;
        cur = dir;
    }
    if (!n)
        return false;
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = n; i-- > 0 && o < cap;)
        o += (size_t)snprintf(out + o, cap - o, "%s%s", (i == n - 1 && !rooted) ? "" : "\\", parts[i]);
    dt_utf8_sanitize_inplace(out, cap);
    return true;
}

/* The server side of port: its owner process (checked to be a process
 * object) and the port's name, or its connection port's. */
static void read_port(dt_kernel_dump *kd, dt_kernel_thread *t, uint64_t port)
{
    const dt_addrspace *as = &kd->as;
    const dt_kernel_offsets *o = &kd->offsets;
    const dt_kernel_alpc_offsets *a = &o->alpc;
    dt_kernel_alpc_wait *w = &t->alpc;
    w->port = port;
    uint64_t ep = 0, comm = 0, conn = 0;
    uint8_t type;
    if (dt_as_u64(as, port + a->port_owner_process, &ep) && kptr(ep)) {
        if (dt_as_read_exact(as, ep, &type, 1) && type == PROCESS_TYPE) {
            w->server_eprocess = ep;
            uint64_t pid;
            if (known(o->eprocess_unique_process_id) && dt_as_u64(as, ep + o->eprocess_unique_process_id, &pid)) {
                w->has_server_pid = true;
                w->server_pid = pid;
            }
            uint8_t img[15];
            if (known(o->eprocess_image_file_name) && dt_as_read_exact(as, ep + o->eprocess_image_file_name, img, 15)) {
                size_t k = 0;
                for (; k < 15 && img[k] >= 0x20 && img[k] < 0x7f; k++)
                    w->server_image[k] = (char)img[k];
                w->server_image[k] = '\0';
            }
        } else if (dt_as_read_exact(as, ep, &type, 1)) {
            dt_warn(&kd->warnings, "thread %llu: ALPC_PORT.OwnerProcess 0x%llx of port 0x%llx is not a process (type %u)",
                    (unsigned long long)t->tid, (unsigned long long)ep, (unsigned long long)port, type);
        }
    }
    if (dt_as_u64(as, port + a->port_communication_info, &comm) && kptr(comm) &&
        dt_as_u64(as, comm + a->comm_connection_port, &conn) && kptr(conn))
        w->connection_port = conn;
    if (object_path(as, a, port, w->port_name, sizeof w->port_name))
        w->port_named = port;
    else if (w->connection_port && w->connection_port != port &&
             object_path(as, a, w->connection_port, w->port_name, sizeof w->port_name))
        w->port_named = w->connection_port;
}

/* A client waiting for its reply: the message it sent. */
static void reply_wait(dt_kernel_dump *kd, dt_kernel_thread *t)
{
    const dt_addrspace *as = &kd->as;
    const dt_kernel_offsets *o = &kd->offsets;
    const dt_kernel_alpc_offsets *a = &o->alpc;
    dt_kernel_alpc_wait *w = &t->alpc;
    uint64_t msg = 0, id = 0;
    if (!dt_as_u64(as, t->ethread + o->ethread_alpc_message, &msg) || !kptr(msg))
        return;
    w->kind = "reply";
    w->message = msg;
    if (known(o->ethread_alpc_message_id) && dt_as_u64(as, t->ethread + o->ethread_alpc_message_id, &id))
        w->message_id = id;
    uint64_t waiter = 0, port = 0, server = 0;
    if (!dt_as_u64(as, msg + a->msg_waiting_thread, &waiter))
        return; /* the message is not in the dump: the wait keeps its label */
    w->message_in_dump = true;
    if (waiter != t->ethread) {
        dt_warn(&kd->warnings,
                "thread %llu: its ALPC message 0x%llx names thread 0x%llx as the one waiting for the reply, not "
                "this one; not followed",
                (unsigned long long)t->tid, (unsigned long long)msg, (unsigned long long)waiter);
        return;
    }
    if (dt_as_u64(as, msg + a->msg_server_thread, &server) && kptr(server)) {
        uint8_t type;
        uint64_t tid;
        if (dt_as_read_exact(as, server, &type, 1) && type == THREAD_TYPE && known(o->ethread_cid) &&
            dt_as_u64(as, server + o->ethread_cid + 8, &tid)) {
            w->server_ethread = server;
            w->has_server_tid = true;
            w->server_tid = tid;
        }
    }
    if (dt_as_u64(as, msg + a->msg_port_queue, &port) && kptr(port)) {
        w->source = "ETHREAD.AlpcMessage → KALPC_MESSAGE.PortQueue";
        read_port(kd, t, port);
    }
}

/* A server waiting for a request: the port whose WaitQueue holds it. */
static void receive_wait(dt_kernel_dump *kd, dt_kernel_thread *t)
{
    const dt_addrspace *as = &kd->as;
    const dt_kernel_offsets *o = &kd->offsets;
    const dt_kernel_alpc_offsets *a = &o->alpc;
    if (!known(o->ethread_alpc_wait_list_entry) || !t->wait_object_count)
        return;
    uint64_t self = t->ethread + o->ethread_alpc_wait_list_entry, prev = self, e = 0;
    if (!dt_as_u64(as, self, &e) || !kptr(e) || e == self)
        return;
    for (unsigned n = 0; n < MAX_WAIT_LIST && e != self; n++) {
        uint64_t blink = 0, sem = 0, next = 0;
        if (!dt_as_u64(as, e + 8, &blink))
            return; /* the list leaves the dump */
        if (blink != prev) {
            dt_warn(&kd->warnings, "thread %llu: ALPC wait list is inconsistent at 0x%llx; port not found",
                    (unsigned long long)t->tid, (unsigned long long)e);
            return;
        }
        uint64_t port = e - a->port_wait_queue;
        if (dt_as_u64(as, port + a->port_semaphore, &sem) && sem)
            for (size_t i = 0; i < t->wait_object_count; i++)
                if (t->wait_objects[i].object == sem) {
                    t->alpc.kind = "receive";
                    t->alpc.source = "ETHREAD.AlpcWaitListEntry → ALPC_PORT.WaitQueue (the port's Semaphore is the "
                                     "waited-on object)";
                    read_port(kd, t, port);
                    return;
                }
        if (!dt_as_u64(as, e, &next) || !kptr(next))
            return;
        prev = e;
        e = next;
    }
    if (e != self)
        dt_warn(&kd->warnings, "thread %llu: ALPC wait list does not come back after %u entries; port not found",
                (unsigned long long)t->tid, MAX_WAIT_LIST);
}

void dt_kernel_collect_alpc(dt_kernel_dump *kd)
{
    const dt_kernel_offsets *o = &kd->offsets;
    if (kd->as.pointer_size != 8 || !known(o->ethread_alpc_message) || !known(o->alpc.msg_port_queue))
        return;
    for (size_t i = 0; i < kd->thread_count; i++) {
        dt_kernel_thread *t = &kd->threads[i];
        memset(&t->alpc, 0, sizeof t->alpc);
        if (!t->ethread || t->state != WAITING)
            continue;
        if (t->wait_reason == WR_LPC_REPLY)
            reply_wait(kd, t);
        else if (t->wait_reason == WR_LPC_RECEIVE)
            receive_wait(kd, t);
    }
}
