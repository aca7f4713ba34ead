/*
 * wait_graph.c — why the process is stuck: which thread waits for which
 * object, who owns (or must end for) that object, the chains and cycles
 * that follow, and the root-cause thread.
 *
 * Every edge says where it came from and how sure it is (docs/triage.md):
 *   kernel wait blocks (certain) > HandleData object information (certain
 *   for the object's facts) > critical sections found in user memory
 *   (strong with the DebugInfo back-pointer, else likely) > handles read
 *   from the user stack at the wait's system call (a guess, "likely" when
 *   every value is a handle the HandleData stream lists).
 * The graph is small (objects per thread are bounded), so chains, cycles
 * and reachability are plain walks over thread→thread links.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "triage/triage_internal.h"

/* NtWaitForMultipleObjects accepts at most MAXIMUM_WAIT_OBJECTS handles. */
#define WG_MAX_HANDLES 64
/* Beyond this many threads the transitive "blocked_threads" lists are not
 * built (they are quadratic); chains and the root cause still are. */
#define WG_MAX_REACH_THREADS 4096

typedef struct {
    char id[48];
    const char *kind;     /* "thread", "object", "process" */
    uint64_t tid;         /* thread nodes */
    char type[48];        /* "Mutant", "Event", "Thread", "critical section", "" */
    bool has_handle, has_object;
    uint64_t handle, object;
    const char *name;     /* object name from HandleData, borrowed */
    char state[200];      /* "auto-reset, not signalled" */
    char label[400];
    char base[400];       /* label without the state: "mutex 0x34 `Local\\cache`" */
} wg_node;

typedef struct {
    size_t from, to;
    const char *kind;     /* "waits_for", "owned_by", "exit_of", "served_by" */
    char source[320];
    const char *confidence;
    const char *wait_mode; /* "any", "all", NULL */
    bool has_timeout, infinite;
    double timeout_ms;
} wg_edge;

typedef struct {
    wg_node *nodes;
    size_t nnodes, capnodes;
    wg_edge *edges;
    size_t nedges, capedges;
    bool oom;
} wg_graph;

static const cJSON *get(const cJSON *o, const char *k)
{
    return o ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static size_t node_find(const wg_graph *g, const char *id)
{
    for (size_t i = 0; i < g->nnodes; i++)
        if (strcmp(g->nodes[i].id, id) == 0)
            return i;
    return SIZE_MAX;
}

static size_t node_add(wg_graph *g, const char *id, const char *kind)
{
    size_t i = node_find(g, id);
    if (i != SIZE_MAX)
        return i;
    if (g->nnodes == g->capnodes) {
        size_t nc = g->capnodes ? g->capnodes * 2 : 32;
        wg_node *n = realloc(g->nodes, nc * sizeof *n);
        if (!n) {
            g->oom = true;
            return SIZE_MAX;
        }
        g->nodes = n;
        g->capnodes = nc;
    }
    wg_node *n = &g->nodes[g->nnodes];
    memset(n, 0, sizeof *n);
    snprintf(n->id, sizeof n->id, "%s", id);
    n->kind = kind;
    return g->nnodes++;
}

static size_t thread_node(wg_graph *g, const dt_tmodel *m, uint64_t tid)
{
    char id[48];
    snprintf(id, sizeof id, "thread:%" PRIu64, tid);
    size_t i = node_add(g, id, "thread");
    if (i == SIZE_MAX || g->nodes[i].label[0])
        return i;
    g->nodes[i].tid = tid;
    const char *name = NULL;
    for (size_t k = 0; k < m->count; k++)
        if (m->threads[k].tid == tid)
            name = m->threads[k].name;
    snprintf(g->nodes[i].label, sizeof g->nodes[i].label, "thread %" PRIu64 "%s%s%s", tid, name && *name ? " (" : "",
             name && *name ? name : "", name && *name ? ")" : "");
    return i;
}

static wg_edge *edge_add(wg_graph *g, size_t from, size_t to, const char *kind, const char *confidence)
{
    if (from == SIZE_MAX || to == SIZE_MAX)
        return NULL;
    for (size_t i = 0; i < g->nedges; i++)
        if (g->edges[i].from == from && g->edges[i].to == to && strcmp(g->edges[i].kind, kind) == 0)
            return NULL; /* the first (best) source wins */
    if (g->nedges == g->capedges) {
        size_t nc = g->capedges ? g->capedges * 2 : 32;
        wg_edge *e = realloc(g->edges, nc * sizeof *e);
        if (!e) {
            g->oom = true;
            return NULL;
        }
        g->edges = e;
        g->capedges = nc;
    }
    wg_edge *e = &g->edges[g->nedges++];
    memset(e, 0, sizeof *e);
    e->from = from;
    e->to = to;
    e->kind = kind;
    e->confidence = confidence;
    return e;
}

/* "mutex", "event", … as people say them. */
static const char *type_word(const char *type)
{
    static const struct { const char *t, *w; } words[] = {
        { "Mutant", "mutex" },      { "Event", "event" },         { "NotificationEvent", "event" },
        { "SynchronizationEvent", "event" }, { "Semaphore", "semaphore" }, { "Thread", "thread" },
        { "Process", "process" },   { "Timer", "timer" },         { "critical section", "critical section" },
        { "ALPC Port", "ALPC port" },
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (type && strcmp(type, words[i].t) == 0)
            return words[i].w;
    return type && *type ? type : "object";
}

static void object_label(wg_node *n)
{
    const char *w = type_word(n->type);
    size_t l;
    if (n->has_handle)
        l = (size_t)snprintf(n->label, sizeof n->label, "%s 0x%" PRIx64, w, n->handle);
    else
        l = (size_t)snprintf(n->label, sizeof n->label, "%s 0x%" PRIx64, w, n->object);
    if (n->name && *n->name && l < sizeof n->label)
        l += (size_t)snprintf(n->label + l, sizeof n->label - l, " `%s`", n->name);
    snprintf(n->base, sizeof n->base, "%s", n->label);
    if (n->state[0] && l < sizeof n->label)
        snprintf(n->label + l, sizeof n->label - l, " (%s)", n->state);
}

/* ---- HandleData ---------------------------------------------------------- */

static const cJSON *handle_entry(const cJSON *user, uint64_t h)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, get(user, "handles"))
    {
        uint64_t v;
        if (dt_json_u64(e, "handle", &v) && v == h)
            return e;
    }
    return NULL;
}

/* A handle node with what HandleData says about it, and the object's edge to
 * the thread it belongs to (owner, or the thread whose exit signals it). */
static size_t handle_node(wg_graph *g, const dt_tmodel *m, const cJSON *user, uint64_t h)
{
    char id[48];
    snprintf(id, sizeof id, "handle:0x%" PRIx64, h);
    size_t i = node_add(g, id, "object");
    if (i == SIZE_MAX || g->nodes[i].label[0])
        return i;
    wg_node *n = &g->nodes[i];
    n->has_handle = true;
    n->handle = h;
    const cJSON *e = handle_entry(user, h);
    const char *type = dt_json_get_str(e, "type");
    snprintf(n->type, sizeof n->type, "%s", type ? type : "");
    n->name = dt_json_get_str(e, "name");
    uint64_t v;
    bool b;
    const char *et = dt_json_get_str(e, "event_type");
    if (et && dt_json_bool(e, "signalled", &b))
        snprintf(n->state, sizeof n->state, "%s, %s", et, b ? "signalled" : "not signalled");
    double sc, sm;
    if (dt_json_num(e, "semaphore_count", &sc) && dt_json_num(e, "semaphore_maximum", &sm))
        snprintf(n->state, sizeof n->state, "count %.0f of %.0f", sc, sm);
    if (dt_json_u64(e, "owner_thread_id", &v)) {
        if (v) {
            snprintf(n->state, sizeof n->state, "owned by %" PRIu64, v);
            wg_edge *x = edge_add(g, i, thread_node(g, m, v), "owned_by", "certain");
            if (x)
                snprintf(x->source, sizeof x->source, "HandleData: MUTANT_OWNER_INFORMATION of handle 0x%" PRIx64, h);
        } else {
            snprintf(n->state, sizeof n->state, "not owned");
        }
    }
    n = &g->nodes[i];
    object_label(n);
    if (dt_json_u64(e, "thread_id", &v)) {
        wg_edge *x = edge_add(g, i, thread_node(g, m, v), "exit_of", "certain");
        if (x)
            snprintf(x->source, sizeof x->source, "HandleData: THREAD_BASIC_INFORMATION of handle 0x%" PRIx64, h);
    } else if (dt_json_u64(e, "process_id", &v)) {
        char pid[48];
        snprintf(pid, sizeof pid, "process:%" PRIu64, v);
        size_t p = node_add(g, pid, "process");
        if (p != SIZE_MAX && !g->nodes[p].label[0])
            snprintf(g->nodes[p].label, sizeof g->nodes[p].label, "process %" PRIu64, v);
        wg_edge *x = edge_add(g, i, p, "exit_of", "certain");
        if (x)
            snprintf(x->source, sizeof x->source, "HandleData: PROCESS_BASIC_INFORMATION of handle 0x%" PRIx64, h);
    }
    return i;
}

/* ---- handles read from the user stack ------------------------------------ */

static bool reg(const cJSON *uthread, const char *name, uint64_t *v)
{
    return dt_json_u64(get(uthread, "registers"), name, v);
}

/* Handle-shaped: a small multiple of 4 (pseudo-handles and pointers are not). */
static bool handle_like(uint64_t v)
{
    return v && v < 0x1000000 && (v & 3) == 0;
}

static bool fn_is(const dt_tframe *f, const char *const *names)
{
    const char *bang = strchr(f->norm, '!');
    if (!bang)
        return false;
    for (; *names; names++)
        if (strcmp(bang + 1, *names) == 0)
            return true;
    return false;
}

/* Reads the timeout the wait was given: a pointer to a LARGE_INTEGER
 * (NULL: infinite; negative: relative, in 100 ns units). */
static void read_timeout(const dt_addrspace *as, uint64_t ptr, const char *how, wg_edge *e, dt_tthread *t)
{
    if (!e)
        return;
    if (ptr == 0) {
        e->infinite = true;
        return;
    }
    uint64_t raw;
    if (!as || !dt_as_u64(as, ptr, &raw))
        return;
    int64_t v = (int64_t)raw;
    if (v == INT64_MIN)
        return; /* the "infinite" LARGE_INTEGER some callers pass */
    if (v <= 0) {
        e->has_timeout = true;
        e->timeout_ms = (double)-v / 10000.0;
        t->has_timeout = true;
        t->timeout_ms = e->timeout_ms;
        snprintf(t->timeout_source, sizeof t->timeout_source, "%s", how);
    }
}

/*
 * The handles the thread passed to its wait, from the system-call stub it is
 * stopped in: NtWaitForMultipleObjects(count, handles, type, alertable,
 * timeout) and NtWaitForSingleObject(handle, alertable, timeout).  The
 * register arguments are volatile: Windows' trap frame and Wine's syscall
 * frame keep them in practice, nothing guarantees it, so every value is a
 * guess until HandleData confirms it.  The fifth argument lives in the
 * caller's outgoing-argument area on the stack ([rsp+0x28] at the stub).
 */
static void stack_handles(wg_graph *g, const dt_tmodel *m, const cJSON *user, dt_tthread *t, size_t tn)
{
    static const char *const multi[] = { "ntwaitformultipleobjects", "zwwaitformultipleobjects", NULL };
    static const char *const single[] = { "ntwaitforsingleobject", "zwwaitforsingleobject", NULL };
    static const char *const signal_wait[] = { "ntsignalandwaitforsingleobject", "zwsignalandwaitforsingleobject",
                                               NULL };
    static const char *const delay[] = { "ntdelayexecution", "zwdelayexecution", NULL };
    static const char *const alpc[] = { "ntalpcsendwaitreceiveport", "zwalpcsendwaitreceiveport", NULL };
    static const char *const lpc_reply[] = { "ntrequestwaitreplyport", "zwrequestwaitreplyport",
                                             "ntsecurerequestwaitreplyport", NULL };
    static const char *const lpc_receive[] = { "ntreplywaitreceiveport", "zwreplywaitreceiveport",
                                               "ntreplywaitreceiveportex", "zwreplywaitreceiveportex", NULL };
    static const char *const one_handle_api[] = { "waitforsingleobject", "waitforsingleobjectex",
                                                  "signalobjectandwait", NULL };
    const dt_addrspace *as = m->user_memory;
    if (!t->uthread || t->nuf == 0 || !t->uf[0].named || !t->uf[0].has_sp)
        return;
    const dt_tframe *top = &t->uf[0];
    uint64_t sp = top->sp, rdx = 0, r8 = 0, r10 = 0, rcx = 0;
    bool has_rdx = reg(t->uthread, "rdx", &rdx), has_r8 = reg(t->uthread, "r8", &r8);
    reg(t->uthread, "r10", &r10);
    reg(t->uthread, "rcx", &rcx);
    if (!as || as->pointer_size != 8)
        return;
    bool has_handle_stream = cJSON_GetArraySize(get(user, "handles")) > 0;

    if (fn_is(top, delay)) {
        /* NtDelayExecution(alertable, timeout): only the timeout matters. */
        if (has_rdx) {
            wg_edge dummy = { 0 };
            read_timeout(as, rdx, "rdx at NtDelayExecution (the Sleep interval; volatile register, a guess)", &dummy, t);
        }
        return;
    }
    uint64_t handles[WG_MAX_HANDLES];
    size_t n = 0;
    const char *how = NULL, *mode = NULL;
    uint64_t timeout_ptr = 0;
    bool has_timeout_ptr = false;
    char how_buf[320];
    if (fn_is(top, multi) && has_rdx) {
        /* One handle when the Win32 API above says so (Wine's
         * WaitForSingleObject ends here too); else the count in r10/rcx when
         * plausible; else the run of handle-shaped values. */
        size_t want = 0;
        for (size_t i = 1; i < t->nuf && i < 6; i++)
            if (fn_is(&t->uf[i], one_handle_api))
                want = 1;
        uint64_t count = r10 ? r10 : rcx;
        bool count_ok = count >= 1 && count <= WG_MAX_HANDLES;
        if (!want && count_ok)
            want = (size_t)count;
        for (size_t i = 0; i < (want ? want : WG_MAX_HANDLES); i++) {
            uint64_t v;
            if (!dt_as_u64(as, rdx + 8 * i, &v) || !handle_like(v))
                break;
            if (!want && has_handle_stream && !handle_entry(user, v))
                break;
            handles[n++] = v;
        }
        if (want && n != want)
            n = 0;
        if (count_ok && has_r8 && r8 <= 1 && want > 1)
            mode = r8 == 0 ? "all" : "any";
        else if (want == 1)
            mode = "any";
        snprintf(how_buf, sizeof how_buf,
                 "user stack: handle array at rdx=0x%" PRIx64 " of the NtWaitForMultipleObjects system call (%s)", rdx,
                 want == 1 ? "one handle: the caller is a single-object wait"
                 : want    ? "count from r10/rcx"
                           : "count unknown: the run of handle-shaped values");
        how = how_buf;
        has_timeout_ptr = dt_as_u64(as, sp + 0x28, &timeout_ptr);
    } else if (fn_is(top, alpc) || fn_is(top, lpc_reply) || fn_is(top, lpc_receive)) {
        /* ALPC/LPC: the port handle is the first argument.  SendMessage (r8)
         * set means a client waiting for the server's reply; NULL, a server
         * waiting for a request.  NtAlpcSendWaitReceivePort's timeout is its
         * eighth argument ([rsp+0x40] at the stub). */
        uint64_t h = r10 ? r10 : rcx;
        if (handle_like(h)) {
            handles[n++] = h;
            mode = "any";
        }
        bool a = fn_is(top, alpc);
        const char *role = a ? (has_r8 && r8 ? "a client waiting for the server's reply (SendMessage r8 is set)"
                                             : "a server waiting for a request (SendMessage r8 is NULL)")
                         : fn_is(top, lpc_reply) ? "an LPC client waiting for the reply"
                                                 : "an LPC server waiting for a request";
        snprintf(how_buf, sizeof how_buf, "user stack: the port handle in %s at the %.100s system call: %s",
                 r10 ? "r10" : "rcx", a ? "NtAlpcSendWaitReceivePort" : top->name, role);
        how = how_buf;
        if (a)
            has_timeout_ptr = dt_as_u64(as, sp + 0x40, &timeout_ptr);
    } else if (fn_is(top, single) || fn_is(top, signal_wait)) {
        bool sw = fn_is(top, signal_wait);
        uint64_t h = sw ? rdx : (r10 ? r10 : rcx);
        if (handle_like(h)) {
            handles[n++] = h;
            mode = "any";
        }
        snprintf(how_buf, sizeof how_buf, "user stack: %s at the %s system call", sw ? "rdx" : r10 ? "r10" : "rcx",
                 sw ? "NtSignalAndWaitForSingleObject" : "NtWaitForSingleObject");
        how = how_buf;
        if (sw)
            has_timeout_ptr = dt_as_u64(as, sp + 0x28, &timeout_ptr);
        else if (has_r8) {
            timeout_ptr = r8;
            has_timeout_ptr = true;
        }
    }
    if (!n)
        return;
    bool all_listed = has_handle_stream;
    for (size_t i = 0; i < n; i++)
        if (!handle_entry(user, handles[i]))
            all_listed = false;
    for (size_t i = 0; i < n; i++) {
        size_t hn = handle_node(g, m, user, handles[i]);
        wg_edge *e = edge_add(g, tn, hn, "waits_for", all_listed ? "likely" : "guess");
        if (!e)
            continue;
        snprintf(e->source, sizeof e->source, "%.270s%s", how,
                 all_listed ? "; every value is a handle HandleData lists" : "; a volatile register: a guess");
        e->wait_mode = mode;
        if (has_timeout_ptr)
            read_timeout(as, timeout_ptr, "the timeout argument of the wait's system call", e, t);
    }
}

/* ---- kernel wait blocks and critical sections ---------------------------- */

/* "auto-reset, not signalled", "count 0 of 3" from the kernel object's
 * DISPATCHER_HEADER (docs/kernel.md "Wait objects"). */
static void kernel_object_state(const cJSON *wo, const char *type, char *out, size_t cap)
{
    double ss, lim;
    uint64_t owner;
    out[0] = '\0';
    if (dt_json_u64(wo, "owner_thread_id", &owner))
        snprintf(out, cap, "owned by %" PRIu64, owner);
    else if (type && strcmp(type, "Mutant") == 0 && dt_json_num(wo, "signal_state", &ss))
        snprintf(out, cap, "%s", ss > 0 ? "not owned" : "owned by a thread not in the dump");
    else if (type && strstr(type, "Event") && dt_json_num(wo, "signal_state", &ss))
        snprintf(out, cap, "%s, %s", strcmp(type, "SynchronizationEvent") == 0 ? "auto-reset" : "manual-reset",
                 ss ? "signalled" : "not signalled");
    else if (type && strcmp(type, "Semaphore") == 0 && dt_json_num(wo, "signal_state", &ss) &&
             dt_json_num(wo, "semaphore_limit", &lim))
        snprintf(out, cap, "count %.0f of %.0f", ss, lim);
    else if (!type)
        snprintf(out, cap, "object not in the dump");
}

/* ALPC/LPC (model/kernel_alpc.c, kernel threads[].alpc): a client's reply
 * wait becomes an edge to the message it sent — "ALPC reply from process X
 * on port Y" — owned by the port's process and served by the message's
 * server thread once one took it; a server's receive wait an edge to the
 * port it receives on. */
static void alpc_waits(wg_graph *g, const dt_tmodel *m, const dt_tthread *t, size_t tn)
{
    const cJSON *a = get(t->kthread, "alpc");
    const char *kind = dt_json_get_str(a, "kind");
    uint64_t port, msg = 0, pid = 0, stid = 0;
    if (!kind || !dt_json_u64(a, "port", &port))
        return;
    bool reply = strcmp(kind, "reply") == 0;
    if (reply && !dt_json_u64(a, "message", &msg))
        return;
    bool has_pid = dt_json_u64(a, "server_process_id", &pid);
    bool has_stid = reply && dt_json_u64(a, "server_thread_id", &stid);
    const char *name = dt_json_get_str(a, "port_name"), *img = dt_json_get_str(a, "server_image");
    char id[48], proc[80] = "";
    snprintf(id, sizeof id, "alpc:0x%" PRIx64, reply ? msg : port);
    if (has_pid)
        snprintf(proc, sizeof proc, "process %" PRIu64 "%s%s%s", pid, img ? " (" : "", img ? img : "", img ? ")" : "");
    size_t on = node_add(g, id, "object");
    if (on == SIZE_MAX)
        return;
    wg_node *n = &g->nodes[on];
    if (!n->label[0]) {
        n->has_object = true;
        n->object = reply ? msg : port;
        n->name = name;
        snprintf(n->type, sizeof n->type, "%s", reply ? "ALPC message" : "ALPC Port");
        /* The name is the port's own or, for an unnamed communication
         * port, its connection port's. */
        uint64_t named = 0;
        dt_json_u64(a, "named_port", &named);
        char nm[200] = "";
        if (name)
            snprintf(nm, sizeof nm, "%s`%.180s`", named == port ? " " : " of ", name);
        if (reply) {
            snprintf(n->base, sizeof n->base, "ALPC reply%s%s on port 0x%" PRIx64 "%s", has_pid ? " from " : "", proc,
                     port, nm);
            snprintf(n->state, sizeof n->state, "%s",
                     has_stid ? "taken by a server thread" : "no server thread has taken the message yet");
        } else {
            snprintf(n->base, sizeof n->base, "ALPC requests on port 0x%" PRIx64 "%s", port, nm);
            if (has_pid)
                snprintf(n->state, sizeof n->state, "owned by %s", proc);
        }
        snprintf(n->label, sizeof n->label, "%.280s%s%.100s%s", n->base, n->state[0] ? " (" : "", n->state,
                 n->state[0] ? ")" : "");
    }
    wg_edge *e = edge_add(g, tn, on, "waits_for", reply ? "certain" : "strong");
    if (e) {
        snprintf(e->source, sizeof e->source, "%s",
                 reply ? "kernel: ETHREAD.AlpcMessage → KALPC_MESSAGE.PortQueue → ALPC_PORT.OwnerProcess "
                         "(KALPC_MESSAGE.WaitingThread is this thread); WrLpcReply: waiting for the server's reply"
                       : "kernel: ETHREAD.AlpcWaitListEntry in ALPC_PORT.WaitQueue (the port's Semaphore is the "
                         "object the thread waits on); WrLpcReceive: waiting for a request");
        e->wait_mode = "any";
    }
    if (has_pid) {
        char pidn[48];
        snprintf(pidn, sizeof pidn, "process:%" PRIu64, pid);
        size_t p = node_add(g, pidn, "process");
        if (p != SIZE_MAX && !g->nodes[p].label[0])
            snprintf(g->nodes[p].label, sizeof g->nodes[p].label, "%s", proc);
        wg_edge *x = edge_add(g, on, p, "owned_by", "certain");
        if (x)
            snprintf(x->source, sizeof x->source, "kernel: ALPC_PORT.OwnerProcess of port 0x%" PRIx64, port);
    }
    if (has_stid) {
        wg_edge *x = edge_add(g, on, thread_node(g, m, stid), "served_by", "certain");
        if (x)
            snprintf(x->source, sizeof x->source, "kernel: KALPC_MESSAGE.ServerThread");
    }
}

static void kernel_waits(wg_graph *g, const dt_tmodel *m, const dt_tthread *t, size_t tn)
{
    alpc_waits(g, m, t, tn);
    const cJSON *wo;
    int nobj = cJSON_GetArraySize(get(t->kthread, "wait_objects"));
    cJSON_ArrayForEach(wo, get(t->kthread, "wait_objects"))
    {
        uint64_t obj;
        if (!dt_json_u64(wo, "object", &obj))
            continue;
        char id[48];
        snprintf(id, sizeof id, "object:0x%" PRIx64, obj);
        size_t on = node_add(g, id, "object");
        if (on == SIZE_MAX)
            continue;
        wg_node *n = &g->nodes[on];
        if (!n->label[0]) {
            n->has_object = true;
            n->object = obj;
            const char *type = dt_json_get_str(wo, "type");
            snprintf(n->type, sizeof n->type, "%s", type ? type : "");
            kernel_object_state(wo, type, n->state, sizeof n->state);
            object_label(n);
        }
        wg_edge *e = edge_add(g, tn, on, "waits_for", "certain");
        if (e) {
            const char *wt = dt_json_get_str(wo, "wait_type");
            /* ALPC/LPC waits are labelled as such: the object is the
             * thread's own reply/receive semaphore, not the port. */
            const char *wr = dt_json_get_str(t->kthread, "wait_reason");
            const char *lpc = !wr                              ? ""
                              : strcmp(wr, "WrLpcReply") == 0   ? "; WrLpcReply: an ALPC/LPC client waiting for the server's reply"
                              : strcmp(wr, "WrLpcReceive") == 0 ? "; WrLpcReceive: an ALPC/LPC server waiting for a request"
                                                                : "";
            snprintf(e->source, sizeof e->source, "kernel: KTHREAD.WaitBlockList (KWAIT_BLOCK.Object%s%s)%s",
                     wt ? ", WaitType " : "", wt ? wt : "", lpc);
            /* WaitAll: the thread needs every object; WaitAny: one. */
            e->wait_mode = wt && strcmp(wt, "WaitAll") == 0 ? "all"
                           : (wt && strcmp(wt, "WaitAny") == 0) || nobj == 1 ? "any"
                                                                             : NULL;
        }
        uint64_t v;
        if (dt_json_u64(wo, "owner_thread_id", &v)) {
            wg_edge *x = edge_add(g, on, thread_node(g, m, v), "owned_by", "certain");
            if (x)
                snprintf(x->source, sizeof x->source, "kernel: KMUTANT.OwnerThread");
        }
        if (dt_json_u64(wo, "thread_id", &v)) {
            wg_edge *x = edge_add(g, on, thread_node(g, m, v), "exit_of", "certain");
            if (x)
                snprintf(x->source, sizeof x->source, "kernel: the waited-on object is the thread's ETHREAD");
        } else if (dt_json_u64(wo, "process_id", &v)) {
            char pid[48];
            snprintf(pid, sizeof pid, "process:%" PRIu64, v);
            size_t p = node_add(g, pid, "process");
            if (p != SIZE_MAX && !g->nodes[p].label[0])
                snprintf(g->nodes[p].label, sizeof g->nodes[p].label, "process %" PRIu64, v);
            wg_edge *x = edge_add(g, on, p, "exit_of", "certain");
            if (x)
                snprintf(x->source, sizeof x->source, "kernel: the waited-on object is an EPROCESS of the dump");
        }
    }
}

/* Pending I/O (#21, io_wait.c): the thread waits for an IRP that the
 * driver of a device has not completed. */
static void io_waits(wg_graph *g, const dt_tthread *t, size_t tn)
{
    uint64_t irp;
    if (!t->io_irp || !dt_json_u64(t->io_irp, "irp", &irp))
        return;
    char id[48];
    snprintf(id, sizeof id, "io:0x%" PRIx64, irp);
    size_t on = node_add(g, id, "object");
    if (on == SIZE_MAX)
        return;
    wg_node *n = &g->nodes[on];
    const cJSON *dev = get(t->io_irp, "device");
    const char *major = dt_json_get_str(t->io_irp, "major");
    const char *file = dt_json_get_str(get(t->io_irp, "file"), "name");
    const char *devobj = dt_json_get_str(dev, "object");
    n->has_object = true;
    n->object = irp;
    snprintf(n->type, sizeof n->type, "IRP");
    n->name = dt_json_get_str(get(t->io_irp, "driver"), "name");
    snprintf(n->label, sizeof n->label, "I/O %s%s%s on device %s of %s", major ? major : "request", file ? " of " : "",
             file ? file : "", devobj ? devobj : "?", n->name ? n->name : "an unknown driver");
    snprintf(n->base, sizeof n->base, "%s", n->label);
    wg_edge *e = edge_add(g, tn, on, "waits_for", "certain");
    if (e)
        snprintf(e->source, sizeof e->source,
                 "kernel: the thread's pending IRP (ETHREAD.IrpList → IO_STACK_LOCATION.DeviceObject → DRIVER_OBJECT)");
}

/* The node of a critical section at addr (the loader lock is one), made on
 * first use; SIZE_MAX when the graph is full. */
static size_t cs_node(wg_graph *g, const dt_tmodel *m, uint64_t addr, uint64_t owner)
{
    char id[48];
    snprintf(id, sizeof id, "cs:0x%" PRIx64, addr);
    size_t cn = node_add(g, id, "object");
    if (cn == SIZE_MAX)
        return cn;
    wg_node *n = &g->nodes[cn];
    if (!n->label[0]) {
        n->has_object = true;
        n->object = addr;
        bool loader = m->has_loader_lock && m->loader_lock == addr;
        snprintf(n->type, sizeof n->type, loader ? "loader lock" : "critical section");
        snprintf(n->state, sizeof n->state, "owned by %" PRIu64, owner);
        object_label(n);
    }
    return cn;
}

static void cs_waits(wg_graph *g, const dt_tmodel *m, const dt_tthread *t, size_t tn)
{
    if (!t->has_lock)
        return;
    size_t cn = cs_node(g, m, t->lock_addr, t->lock_owner);
    if (cn == SIZE_MAX)
        return;
    const char *conf = t->lock_strong ? "strong" : "likely";
    wg_edge *e = edge_add(g, tn, cn, "waits_for", conf);
    if (e) {
        snprintf(e->source, sizeof e->source, "user memory: an RTL_CRITICAL_SECTION pointer on the stack above "
                                              "RtlEnterCriticalSection%s",
                 t->lock_strong ? " (its DebugInfo points back at it)" : "");
        e->wait_mode = "any";
        e->infinite = true;
    }
    wg_edge *x = edge_add(g, cn, thread_node(g, m, t->lock_owner), "owned_by", conf);
    if (x)
        snprintf(x->source, sizeof x->source, "user memory: RTL_CRITICAL_SECTION.OwningThread");
}

/* SRW locks and condition variables (user_locks.c): Windows records no
 * owner for either, so the node says so; a possible SRW holder found on one
 * other thread's stack is an owned_by edge marked as a guess. */
static void ulock_waits(wg_graph *g, const dt_tmodel *m, const dt_tthread *t, size_t tn)
{
    if (!t->ulock_kind)
        return;
    bool srw = strcmp(t->ulock_kind, "srw_lock") == 0;
    char id[48];
    snprintf(id, sizeof id, "%s:0x%" PRIx64, srw ? "srw" : "cv", t->ulock_addr);
    size_t on = node_add(g, id, "object");
    if (on == SIZE_MAX)
        return;
    wg_node *n = &g->nodes[on];
    if (!n->label[0]) {
        n->has_object = true;
        n->object = t->ulock_addr;
        snprintf(n->type, sizeof n->type, "%s", srw ? "SRW lock" : "condition variable");
        char waiters[200];
        dt_triage_user_lock_waiters(m, t->ulock_addr, waiters, sizeof waiters);
        if (srw)
            snprintf(n->state, sizeof n->state, "owner unknown: Windows records no SRW owner; waiters %.120s", waiters);
        else if (t->ulock_assoc)
            snprintf(n->state, sizeof n->state, "no owner: any thread may wake it; waiters %.100s; released %s 0x%" PRIx64,
                     waiters, t->ulock_assoc_cs ? "critical section" : "SRW lock", t->ulock_assoc);
        else
            snprintf(n->state, sizeof n->state, "no owner: any thread may wake it; waiters %.120s", waiters);
        object_label(n);
    }
    wg_edge *e = edge_add(g, tn, on, "waits_for", t->ulock_conf);
    if (e) {
        snprintf(e->source, sizeof e->source, "%.280s%s", t->ulock_source,
                 srw ? (t->ulock_shared ? " (AcquireSRWLockShared)" : " (AcquireSRWLockExclusive)") : "");
        e->wait_mode = "any";
        e->infinite = srw; /* AcquireSRWLock* has no timeout */
    }
    if (srw && t->has_ulock_holder) {
        wg_edge *x = edge_add(g, on, thread_node(g, m, t->ulock_holder), "owned_by", "guess");
        if (x)
            snprintf(x->source, sizeof x->source,
                     "user stack: the only other thread whose live stack or recovered registers hold the lock's "
                     "address (Windows records no SRW owner)");
    }
}

/* A thread waiting inside the loader without a critical section on its
 * stack waits for the thread that holds the loader lock (PEB.LoaderLock). */
static void loader_waits(wg_graph *g, const dt_tmodel *m, const dt_tthread *t, size_t tn)
{
    if (!t->loader_wait)
        return;
    size_t on = cs_node(g, m, m->loader_lock, m->loader_lock_owner);
    if (on == SIZE_MAX)
        return;
    wg_edge *e = edge_add(g, tn, on, "waits_for", "likely");
    if (e) {
        snprintf(e->source, sizeof e->source,
                 "user stack: %s waits while another thread runs loader work under the loader lock", t->loader_wait_frame);
        e->wait_mode = "any";
    }
    wg_edge *x = edge_add(g, on, thread_node(g, m, m->loader_lock_owner), "owned_by", "strong");
    if (x)
        snprintf(x->source, sizeof x->source, "user memory: PEB.LoaderLock → RTL_CRITICAL_SECTION.OwningThread");
}

/* ---- chains, cycles, root cause ------------------------------------------ */

/* Thread-level link: thread a waits (edge wa) for an object that belongs
 * (edge ob) to thread b. */
typedef struct {
    size_t a, b;      /* model thread indexes */
    size_t wa, ob;    /* edge indexes */
} wg_link;

static size_t model_index(const dt_tmodel *m, uint64_t tid)
{
    for (size_t i = 0; i < m->count; i++)
        if (m->threads[i].tid == tid)
            return i;
    return SIZE_MAX;
}

static const char *conf_min(const char *a, const char *b)
{
    static const char *order[] = { "guess", "likely", "strong", "certain" };
    int ia = 3, ib = 3;
    for (int i = 0; i < 4; i++) {
        if (a && strcmp(a, order[i]) == 0)
            ia = i;
        if (b && strcmp(b, order[i]) == 0)
            ib = i;
    }
    return order[ia < ib ? ia : ib];
}

/* "waits for mutex 0x34 owned by thread 244" / "waits for thread 248 to exit". */
static void link_phrase(const wg_graph *g, const wg_link *l, const dt_tmodel *m, char *out, size_t cap)
{
    const wg_edge *ob = &g->edges[l->ob];
    const wg_node *obj = &g->nodes[ob->from];
    const dt_tthread *b = &m->threads[l->b];
    if (strcmp(ob->kind, "exit_of") == 0)
        snprintf(out, cap, "waits for thread %" PRIu64 "%s%s%s to exit (%s)", b->tid, b->name && *b->name ? " (" : "",
                 b->name && *b->name ? b->name : "", b->name && *b->name ? ")" : "", obj->label);
    else if (strcmp(ob->kind, "served_by") == 0)
        snprintf(out, cap, "waits for %s, served by %" PRIu64 "%s%s%s", obj->base, b->tid, b->name && *b->name ? " (" : "",
                 b->name && *b->name ? b->name : "", b->name && *b->name ? ")" : "");
    else
        snprintf(out, cap, "waits for %s owned by %" PRIu64 "%s%s%s", obj->base, b->tid, b->name && *b->name ? " (" : "",
                 b->name && *b->name ? b->name : "", b->name && *b->name ? ")" : "");
}

/* What the end of a chain waits for, when that leads to no thread. */
static void end_phrase(const wg_graph *g, size_t tn, char *out, size_t cap)
{
    out[0] = '\0';
    size_t l = 0;
    for (size_t i = 0; i < g->nedges && l < cap; i++) {
        const wg_edge *e = &g->edges[i];
        if (e->from != tn || strcmp(e->kind, "waits_for") != 0)
            continue;
        const wg_node *o = &g->nodes[e->to];
        bool owned = false;
        for (size_t k = 0; k < g->nedges; k++)
            if (g->edges[k].from == e->to && strcmp(g->edges[k].kind, "waits_for") != 0)
                owned = true;
        l += (size_t)snprintf(out + l, cap - l, "%s%s%s", l ? ", " : "waits for ", o->label,
                              owned ? "" : strcmp(type_word(o->type), "event") == 0 || strcmp(type_word(o->type), "semaphore") == 0 ? ", no owner"
                                                                                                               : "");
    }
}

static void add_blocked(dt_tthread *t, uint64_t tid)
{
    for (size_t i = 0; i < t->nblocked; i++)
        if (t->blocked[i] == tid)
            return;
    uint64_t *n = realloc(t->blocked, (t->nblocked + 1) * sizeof *n);
    if (!n)
        return;
    t->blocked = n;
    t->blocked[t->nblocked++] = tid;
}

static cJSON *edge_json(const wg_graph *g, const wg_edge *e)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "from", g->nodes[e->from].id);
    cJSON_AddStringToObject(o, "to", g->nodes[e->to].id);
    cJSON_AddStringToObject(o, "kind", e->kind);
    if (strcmp(e->kind, "waits_for") == 0) {
        if (e->wait_mode)
            cJSON_AddStringToObject(o, "wait_mode", e->wait_mode);
        else
            cJSON_AddNullToObject(o, "wait_mode");
        if (e->has_timeout)
            cJSON_AddNumberToObject(o, "timeout_ms", e->timeout_ms);
        else
            cJSON_AddNullToObject(o, "timeout_ms");
        if (e->infinite)
            cJSON_AddBoolToObject(o, "infinite", true);
    }
    cJSON_AddStringToObject(o, "source", e->source);
    cJSON_AddStringToObject(o, "confidence", e->confidence);
    return o;
}

static cJSON *node_json(const wg_node *n)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", n->id);
    cJSON_AddStringToObject(o, "kind", n->kind);
    if (strcmp(n->kind, "thread") == 0)
        cJSON_AddNumberToObject(o, "thread_id", (double)n->tid);
    if (strcmp(n->kind, "object") == 0) {
        if (n->type[0])
            cJSON_AddStringToObject(o, "type", n->type);
        else
            cJSON_AddNullToObject(o, "type");
        if (n->has_handle)
            dt_json_add_hex(o, "handle", n->handle);
        else
            cJSON_AddNullToObject(o, "handle");
        if (n->has_object)
            dt_json_add_hex(o, "object", n->object);
        else
            cJSON_AddNullToObject(o, "object");
        if (n->name)
            cJSON_AddStringToObject(o, "name", n->name);
        else
            cJSON_AddNullToObject(o, "name");
        if (n->state[0])
            cJSON_AddStringToObject(o, "state", n->state);
    }
    cJSON_AddStringToObject(o, "label", n->label);
    return o;
}

/* One chain from thread h, following the first link out of each thread
 * until a thread that waits on no thread, or one already on the chain. */
static void add_chain(const wg_graph *g, const dt_tmodel *m, const wg_link *links, size_t nlinks,
                      const size_t *tnode, size_t h, bool *covered, cJSON *chains)
{
    bool *visited = calloc(m->count, 1);
    if (!visited)
        return;
    cJSON *c = cJSON_CreateObject();
    cJSON *tids = cJSON_AddArrayToObject(c, "threads");
    cJSON *kinds = cJSON_AddArrayToObject(c, "kinds");
    cJSON *steps = cJSON_AddArrayToObject(c, "steps");
    char text[2048];
    size_t tl = 0, cur = h;
    bool cycle = false;
    const char *conf = "certain";
    for (size_t n = 0; n <= m->count; n++) {
        const dt_tthread *t = &m->threads[cur];
        visited[cur] = covered[cur] = true;
        cJSON_AddItemToArray(tids, cJSON_CreateNumber((double)t->tid));
        const wg_link *l = NULL;
        for (size_t k = 0; k < nlinks && !l; k++)
            if (links[k].a == cur)
                l = &links[k];
        if (tl < sizeof text)
            tl += (size_t)snprintf(text + tl, sizeof text - tl, "%s%" PRIu64 "%s%s", n ? " → " : "", t->tid,
                                   t->name && *t->name ? " " : "", t->name ? t->name : "");
        if (!l) {
            char end[600] = "";
            if (tnode[cur] != SIZE_MAX)
                end_phrase(g, tnode[cur], end, sizeof end);
            if (tl < sizeof text)
                tl += (size_t)snprintf(text + tl, sizeof text - tl, " %s%s", end[0] ? "" : "is ",
                                       end[0] ? end : t->state ? t->state : "unknown");
            break;
        }
        char ph[400];
        link_phrase(g, l, m, ph, sizeof ph);
        if (tl < sizeof text)
            tl += (size_t)snprintf(text + tl, sizeof text - tl, " %s", ph);
        const char *kind = g->edges[l->ob].kind; /* exit_of, owned_by, served_by */
        cJSON_AddItemToArray(kinds, cJSON_CreateString(kind));
        cJSON *st = cJSON_CreateObject();
        cJSON_AddNumberToObject(st, "thread_id", (double)t->tid);
        cJSON_AddStringToObject(st, "waits_for", g->nodes[g->edges[l->wa].to].id);
        cJSON_AddStringToObject(st, "node", g->nodes[g->edges[l->ob].to].id);
        cJSON_AddStringToObject(st, "kind", kind);
        cJSON_AddItemToArray(steps, st);
        conf = conf_min(conf, conf_min(g->edges[l->wa].confidence, g->edges[l->ob].confidence));
        if (visited[l->b]) {
            cycle = true;
            if (tl < sizeof text)
                tl += (size_t)snprintf(text + tl, sizeof text - tl, " → %" PRIu64 " (a cycle: deadlock)",
                                       m->threads[l->b].tid);
            cur = l->b;
            break;
        }
        cur = l->b;
    }
    free(visited);
    cJSON_AddNumberToObject(c, "root_thread_id", (double)m->threads[cur].tid);
    cJSON_AddBoolToObject(c, "cycle", cycle);
    cJSON_AddStringToObject(c, "confidence", conf);
    cJSON_AddStringToObject(c, "text", text);
    cJSON_AddItemToArray(chains, c);
}

dt_tthread *dt_triage_wait_graph(dt_tmodel *m, const cJSON *user, cJSON *triage, cJSON *deadlocks)
{
    wg_graph g = { 0 };
    size_t *tnode = malloc((m->count ? m->count : 1) * sizeof *tnode);
    if (!tnode)
        return NULL;
    for (size_t i = 0; i < m->count; i++) {
        dt_tthread *t = &m->threads[i];
        tnode[i] = SIZE_MAX;
        if (!t->state || strcmp(t->state, "waiting") != 0)
            continue;
        tnode[i] = thread_node(&g, m, t->tid);
        if (tnode[i] == SIZE_MAX)
            continue;
        kernel_waits(&g, m, t, tnode[i]);
        io_waits(&g, t, tnode[i]);
        cs_waits(&g, m, t, tnode[i]);
        ulock_waits(&g, m, t, tnode[i]);
        loader_waits(&g, m, t, tnode[i]);
        /* The kernel's wait blocks are the better source for the same wait. */
        if (cJSON_GetArraySize(get(t->kthread, "wait_objects")) == 0)
            stack_handles(&g, m, user, t, tnode[i]);
    }

    /* Thread-level links. */
    wg_link *links = NULL;
    size_t nlinks = 0;
    for (size_t w = 0; w < g.nedges; w++) {
        if (strcmp(g.edges[w].kind, "waits_for") != 0)
            continue;
        for (size_t o = 0; o < g.nedges; o++) {
            if (g.edges[o].from != g.edges[w].to || strcmp(g.edges[o].kind, "waits_for") == 0)
                continue;
            const wg_node *a = &g.nodes[g.edges[w].from], *b = &g.nodes[g.edges[o].to];
            if (strcmp(b->kind, "thread") != 0)
                continue;
            size_t ia = model_index(m, a->tid), ib = model_index(m, b->tid);
            if (ia == SIZE_MAX || ib == SIZE_MAX)
                continue;
            wg_link *nl = realloc(links, (nlinks + 1) * sizeof *nl);
            if (!nl)
                break;
            links = nl;
            links[nlinks++] = (wg_link){ ia, ib, w, o };
        }
    }

    /* Reachability (who waits on whom, transitively) by walking the links
     * backwards from every thread; bounded by the thread count. */
    size_t *queue = malloc((m->count ? m->count : 1) * sizeof *queue);
    bool *seen = calloc(m->count ? m->count : 1, 1);
    if (queue && seen && m->count <= WG_MAX_REACH_THREADS) {
        for (size_t r = 0; r < m->count; r++) {
            memset(seen, 0, m->count);
            size_t qh = 0, qt = 0;
            queue[qt++] = r;
            seen[r] = true;
            while (qh < qt) {
                size_t x = queue[qh++];
                for (size_t l = 0; l < nlinks; l++)
                    if (links[l].b == x && !seen[links[l].a]) {
                        seen[links[l].a] = true;
                        queue[qt++] = links[l].a;
                    }
            }
            for (size_t k = 0; k < m->count; k++)
                if (seen[k] && k != r)
                    add_blocked(&m->threads[r], m->threads[k].tid);
            /* r itself reachable through a cycle */
            for (size_t l = 0; l < nlinks; l++)
                if (links[l].b == r && seen[links[l].a] && links[l].a == r)
                    add_blocked(&m->threads[r], m->threads[r].tid);
        }
    }

    /* A thread is in a cycle when it is blocked by itself (transitively). */
    bool *in_cycle = calloc(m->count ? m->count : 1, 1);
    for (size_t i = 0; in_cycle && i < m->count; i++) {
        dt_tthread *t = &m->threads[i];
        for (size_t k = 0; k < t->nblocked; k++)
            if (t->blocked[k] == t->tid)
                in_cycle[i] = true;
        if (!in_cycle[i]) /* a cycle through others: i reaches j and j reaches i */
            for (size_t l = 0; l < nlinks; l++)
                if (links[l].a == i) {
                    const dt_tthread *b = &m->threads[links[l].b];
                    for (size_t k = 0; k < t->nblocked; k++)
                        if (t->blocked[k] == b->tid)
                            in_cycle[i] = true;
                }
    }

    /* Cycles that are not pure critical-section cycles (locks.c reports those). */
    bool *done = calloc(m->count ? m->count : 1, 1);
    for (size_t s = 0; in_cycle && done && s < m->count; s++) {
        if (!in_cycle[s] || done[s])
            continue;
        /* Follow in-cycle links from s until back at s. */
        size_t path[64], np = 0, lk[64];
        size_t cur = s;
        bool closed = false;
        while (np < 64) {
            size_t next = SIZE_MAX, via = SIZE_MAX;
            for (size_t l = 0; l < nlinks && next == SIZE_MAX; l++)
                if (links[l].a == cur && in_cycle[links[l].b]) {
                    bool used = false;
                    for (size_t k = 0; k < np; k++)
                        if (path[k] == links[l].b && links[l].b != s)
                            used = true;
                    if (!used) {
                        next = links[l].b;
                        via = l;
                    }
                }
            if (next == SIZE_MAX)
                break;
            path[np] = cur;
            lk[np++] = via;
            if (next == s) {
                closed = true;
                break;
            }
            cur = next;
        }
        if (!closed)
            continue;
        bool all_cs = true;
        for (size_t k = 0; k < np; k++) {
            done[path[k]] = true;
            if (strncmp(g.nodes[g.edges[links[lk[k]].wa].to].id, "cs:", 3) != 0)
                all_cs = false;
        }
        for (size_t k = 0; k < np; k++)
            m->threads[path[k]].in_deadlock = true;
        if (all_cs)
            continue;
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "kind", "wait_graph");
        cJSON *kinds = cJSON_AddArrayToObject(d, "kinds");
        cJSON *tids = cJSON_AddArrayToObject(d, "threads");
        cJSON *locks = cJSON_AddArrayToObject(d, "locks");
        char desc[1024];
        size_t dl = (size_t)snprintf(desc, sizeof desc, "deadlock:");
        const char *conf = "certain";
        for (size_t k = 0; k < np; k++) {
            const wg_link *l = &links[lk[k]];
            const wg_node *obj = &g.nodes[g.edges[l->wa].to];
            const char *kind = strncmp(obj->id, "cs:", 3) == 0           ? "critical_section"
                               : strncmp(obj->id, "alpc:", 5) == 0         ? "alpc"
                               : strcmp(g.edges[l->ob].kind, "exit_of") == 0 ? "thread_join"
                                                                           : type_word(obj->type);
            bool have = false;
            const cJSON *kk;
            cJSON_ArrayForEach(kk, kinds)
                if (cJSON_IsString(kk) && strcmp(kk->valuestring, kind) == 0)
                    have = true;
            if (!have)
                cJSON_AddItemToArray(kinds, cJSON_CreateString(kind));
            cJSON_AddItemToArray(tids, cJSON_CreateNumber((double)m->threads[l->a].tid));
            cJSON *lo = cJSON_CreateObject();
            cJSON_AddNumberToObject(lo, "thread_id", (double)m->threads[l->a].tid);
            cJSON_AddStringToObject(lo, "waits_for", obj->id);
            cJSON_AddNumberToObject(lo, "owned_by", (double)m->threads[l->b].tid);
            cJSON_AddStringToObject(lo, "kind", kind);
            cJSON_AddItemToArray(locks, lo);
            conf = conf_min(conf, conf_min(g.edges[l->wa].confidence, g.edges[l->ob].confidence));
            char ph[400];
            link_phrase(&g, l, m, ph, sizeof ph);
            if (dl < sizeof desc)
                dl += (size_t)snprintf(desc + dl, sizeof desc - dl, "%s %" PRIu64 " %s", k ? ";" : "",
                                       m->threads[l->a].tid, ph);
        }
        cJSON_AddStringToObject(d, "confidence", conf);
        cJSON_AddStringToObject(d, "description", desc);
        cJSON_AddItemToArray(deadlocks, d);
    }

    /* Root cause: the chain end (a thread that waits on no other thread) or
     * a cycle member with the most threads waiting on it; earliest on ties. */
    dt_tthread *root = NULL;
    bool root_cyc = false;
    for (size_t i = 0; i < m->count; i++) {
        dt_tthread *t = &m->threads[i];
        bool has_out = false;
        for (size_t l = 0; l < nlinks; l++)
            if (links[l].a == i)
                has_out = true;
        bool cyc = in_cycle && in_cycle[i];
        if ((has_out && !cyc) || t->nblocked == 0)
            continue;
        /* Most threads waiting on it; on a tie a cycle (a deadlock) wins. */
        size_t nb = t->nblocked;
        if (!root || nb > root->nblocked || (nb == root->nblocked && cyc && !root_cyc)) {
            root = t;
            root_cyc = cyc;
        }
    }
    if (root)
        root->graph_root = true;

    /* Per-thread edges and link phrase. */
    for (size_t i = 0; i < m->count; i++) {
        dt_tthread *t = &m->threads[i];
        if (tnode[i] == SIZE_MAX)
            continue;
        t->waits_on = cJSON_CreateArray();
        for (size_t e = 0; e < g.nedges; e++) {
            const wg_edge *x = &g.edges[e];
            if (x->from != tnode[i] || strcmp(x->kind, "waits_for") != 0)
                continue;
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "node", g.nodes[x->to].id);
            cJSON_AddStringToObject(o, "kind", x->kind);
            cJSON_AddStringToObject(o, "label", g.nodes[x->to].label);
            cJSON_AddStringToObject(o, "source", x->source);
            cJSON_AddStringToObject(o, "confidence", x->confidence);
            if (x->wait_mode)
                cJSON_AddStringToObject(o, "wait_mode", x->wait_mode);
            else
                cJSON_AddNullToObject(o, "wait_mode");
            if (x->has_timeout)
                cJSON_AddNumberToObject(o, "timeout_ms", x->timeout_ms);
            else
                cJSON_AddNullToObject(o, "timeout_ms");
            bool owner = false;
            for (size_t k = 0; k < g.nedges; k++)
                if (g.edges[k].from == x->to && strcmp(g.edges[k].kind, "waits_for") != 0 &&
                    strcmp(g.nodes[g.edges[k].to].kind, "thread") == 0) {
                    cJSON_AddNumberToObject(o, "owner_thread_id", (double)g.nodes[g.edges[k].to].tid);
                    owner = true;
                    break;
                }
            if (!owner)
                cJSON_AddNullToObject(o, "owner_thread_id");
            cJSON_AddItemToArray(t->waits_on, o);
        }
        for (size_t l = 0; l < nlinks; l++)
            if (links[l].a == i) {
                link_phrase(&g, &links[l], m, t->link, sizeof t->link);
                break;
            }
        if (!t->link[0] && t->nblocked)
            end_phrase(&g, tnode[i], t->link, sizeof t->link);
    }

    /* JSON: graph, chains, root cause. */
    cJSON *wg = cJSON_AddObjectToObject(triage, "wait_graph");
    cJSON *nodes = cJSON_AddArrayToObject(wg, "nodes");
    cJSON *edges = cJSON_AddArrayToObject(wg, "edges");
    for (size_t i = 0; i < g.nnodes; i++)
        cJSON_AddItemToArray(nodes, node_json(&g.nodes[i]));
    for (size_t i = 0; i < g.nedges; i++)
        cJSON_AddItemToArray(edges, edge_json(&g, &g.edges[i]));
    cJSON *chains = cJSON_AddArrayToObject(triage, "chains");
    bool *covered = calloc(m->count ? m->count : 1, 1);
    /* Heads first (they wait on someone, nobody waits on them), then one
     * chain per cycle no chain reached, from its earliest member. */
    for (int pass = 0; covered && pass < 2; pass++)
        for (size_t h = 0; h < m->count; h++) {
            bool has_out = false, has_in = false;
            for (size_t l = 0; l < nlinks; l++) {
                has_out |= links[l].a == h;
                has_in |= links[l].b == h;
            }
            if (pass == 0 && (!has_out || has_in))
                continue;
            if (pass == 1 && (!in_cycle || !in_cycle[h] || covered[h]))
                continue;
            add_chain(&g, m, links, nlinks, tnode, h, covered, chains);
        }
    free(covered);
    if (root) {
        cJSON *rc = cJSON_AddObjectToObject(triage, "root_cause");
        cJSON_AddNumberToObject(rc, "thread_id", (double)root->tid);
        size_t nb = 0;
        for (size_t k = 0; k < root->nblocked; k++)
            nb += root->blocked[k] != root->tid;
        cJSON_AddNumberToObject(rc, "blocked_count", (double)nb);
        bool cyc = in_cycle && in_cycle[model_index(m, root->tid)];
        cJSON_AddBoolToObject(rc, "cycle", cyc);
        char why[700];
        snprintf(why, sizeof why, "%zu thread%s wait%s on thread %" PRIu64 "%s%s%s%s%s", nb, nb == 1 ? "" : "s",
                 nb == 1 ? "s" : "", root->tid, root->name && *root->name ? " (" : "",
                 root->name && *root->name ? root->name : "", root->name && *root->name ? ")" : "",
                 cyc ? ", which is part of a wait cycle" : root->link[0] ? ", which " : ", the end of the chain",
                 cyc ? "" : root->link);
        cJSON_AddStringToObject(rc, "why", why);
    } else {
        cJSON_AddNullToObject(triage, "root_cause");
    }
    if (m->has_loader_lock) {
        /* The loader lock by name, with who holds it and who waits for it. */
        cJSON *ll = cJSON_AddObjectToObject(triage, "loader_lock");
        dt_json_add_hex(ll, "address", m->loader_lock);
        if (m->loader_lock_owner)
            cJSON_AddNumberToObject(ll, "owner_thread_id", (double)m->loader_lock_owner);
        else
            cJSON_AddNullToObject(ll, "owner_thread_id");
        cJSON *w = cJSON_AddArrayToObject(ll, "waiters");
        for (size_t i = 0; i < m->count; i++) {
            const dt_tthread *t = &m->threads[i];
            if (t->loader_wait || (t->has_lock && t->lock_addr == m->loader_lock))
                cJSON_AddItemToArray(w, cJSON_CreateNumber((double)t->tid));
        }
        cJSON_AddStringToObject(ll, "source", "user memory: TEB → PEB.LoaderLock → RTL_CRITICAL_SECTION.OwningThread");
    }

    free(links);
    free(queue);
    free(seen);
    free(in_cycle);
    free(done);
    free(tnode);
    free(g.nodes);
    free(g.edges);
    return root;
}

void dt_triage_wait_graph_free(dt_tmodel *m)
{
    for (size_t i = 0; i < m->count; i++) {
        cJSON_Delete(m->threads[i].waits_on);
        m->threads[i].waits_on = NULL;
        free(m->threads[i].blocked);
        m->threads[i].blocked = NULL;
    }
}
