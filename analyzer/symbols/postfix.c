/*
 * postfix.c — evaluation of Breakpad postfix programs and expressions.
 *
 * The operand stack holds either a value or a reference to a name (so that
 * `=` can learn what to assign to); a name is resolved to its value only
 * when an operator consumes it, as Breakpad does.
 */
#include "symbols/postfix.h"

#include <string.h>

typedef struct {
    bool is_name;
    const char *name;
    size_t name_len;
    uint64_t value;
} operand;

void dt_postfix_init(dt_postfix_env *env, const dt_addrspace *as, unsigned pointer_size)
{
    memset(env, 0, sizeof *env);
    env->as = as;
    env->pointer_size = pointer_size == 4 ? 4 : 8;
}

static dt_postfix_var *find_var(const dt_postfix_env *env, const char *name, size_t len)
{
    for (size_t i = 0; i < env->nvars; i++)
        if (strlen(env->vars[i].name) == len && memcmp(env->vars[i].name, name, len) == 0)
            return (dt_postfix_var *)&env->vars[i];
    return NULL;
}

static uint64_t wrap(const dt_postfix_env *env, uint64_t v)
{
    return env->pointer_size == 4 ? (v & UINT32_MAX) : v;
}

static dt_postfix_var *set_var(dt_postfix_env *env, const char *name, size_t len, uint64_t value)
{
    if (len == 0 || len >= DT_POSTFIX_NAME_MAX)
        return NULL;
    dt_postfix_var *v = find_var(env, name, len);
    if (!v) {
        if (env->nvars == DT_POSTFIX_MAX_VARS)
            return NULL;
        v = &env->vars[env->nvars++];
        memcpy(v->name, name, len);
        v->name[len] = 0;
        v->assigned = false;
    }
    v->value = wrap(env, value);
    return v;
}

bool dt_postfix_set(dt_postfix_env *env, const char *name, uint64_t value)
{
    return set_var(env, name, strlen(name), value) != NULL;
}

bool dt_postfix_get(const dt_postfix_env *env, const char *name, uint64_t *value)
{
    dt_postfix_var *v = find_var(env, name, strlen(name));
    if (!v)
        return false;
    *value = v->value;
    return true;
}

bool dt_postfix_assigned(const dt_postfix_env *env, const char *name)
{
    dt_postfix_var *v = find_var(env, name, strlen(name));
    return v && v->assigned;
}

static bool parse_number(const char *t, size_t len, uint64_t *out)
{
    bool neg = false;
    if (len && t[0] == '-') {
        neg = true;
        t++;
        len--;
    }
    if (len == 0)
        return false;
    uint64_t v = 0;
    if (len > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
        if (len > 18)
            return false;
        for (size_t i = 2; i < len; i++) {
            char c = t[i];
            unsigned d;
            if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
            else return false;
            v = (v << 4) | d;
        }
    } else {
        if (len > 20)
            return false;
        for (size_t i = 0; i < len; i++) {
            if (t[i] < '0' || t[i] > '9')
                return false;
            v = v * 10 + (uint64_t)(t[i] - '0');
        }
    }
    *out = neg ? (uint64_t)0 - v : v;
    return true;
}

static bool value_of(const dt_postfix_env *env, const operand *o, uint64_t *out)
{
    if (!o->is_name) {
        *out = o->value;
        return true;
    }
    dt_postfix_var *v = find_var(env, o->name, o->name_len);
    if (!v)
        return false;
    *out = v->value;
    return true;
}

/* Runs tokens; on success leaves the operand stack in stack/depth. */
static bool run(dt_postfix_env *env, const char *p, size_t len, operand *stack, size_t *depth)
{
    const char *end = p + len;
    size_t sp = 0;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p >= end)
            break;
        const char *t = p;
        while (p < end && *p != ' ' && *p != '\t')
            p++;
        size_t tl = (size_t)(p - t);
        if (tl == 1 && strchr("+-*/%@", t[0])) {
            uint64_t a, b;
            if (sp < 2 || !value_of(env, &stack[sp - 2], &a) || !value_of(env, &stack[sp - 1], &b))
                return false;
            uint64_t r;
            switch (t[0]) {
            case '+': r = a + b; break;
            case '-': r = a - b; break;
            case '*': r = a * b; break;
            case '/':
                if (b == 0)
                    return false;
                r = a / b;
                break;
            case '%':
                if (b == 0)
                    return false;
                r = a % b;
                break;
            default: /* '@': align a down to b, b a power of two */
                if (b == 0 || (b & (b - 1)))
                    return false;
                r = a & ~(b - 1);
                break;
            }
            sp -= 2;
            stack[sp++] = (operand){ false, NULL, 0, wrap(env, r) };
        } else if (tl == 1 && t[0] == '^') {
            uint64_t addr, v = 0;
            if (sp < 1 || !value_of(env, &stack[sp - 1], &addr))
                return false;
            if (env->pointer_size == 4) {
                uint32_t v32;
                if (!dt_as_u32(env->as, addr, &v32))
                    return false;
                v = v32;
            } else if (!dt_as_u64(env->as, addr, &v)) {
                return false;
            }
            stack[sp - 1] = (operand){ false, NULL, 0, v };
        } else if (tl == 1 && t[0] == '=') {
            uint64_t v;
            if (sp < 2 || !stack[sp - 2].is_name || !value_of(env, &stack[sp - 1], &v))
                return false;
            dt_postfix_var *var = set_var(env, stack[sp - 2].name, stack[sp - 2].name_len, v);
            if (!var)
                return false;
            var->assigned = true;
            sp -= 2;
        } else {
            if (sp == DT_POSTFIX_MAX_STACK)
                return false;
            uint64_t num;
            if (parse_number(t, tl, &num))
                stack[sp++] = (operand){ false, NULL, 0, wrap(env, num) };
            else
                stack[sp++] = (operand){ true, t, tl, 0 };
        }
    }
    *depth = sp;
    return true;
}

bool dt_postfix_run(dt_postfix_env *env, const char *program, size_t len)
{
    operand stack[DT_POSTFIX_MAX_STACK];
    size_t depth;
    return program && run(env, program, len, stack, &depth) && depth == 0;
}

bool dt_postfix_eval(dt_postfix_env *env, const char *expr, size_t len, uint64_t *out)
{
    operand stack[DT_POSTFIX_MAX_STACK];
    size_t depth;
    if (!expr || !run(env, expr, len, stack, &depth) || depth != 1)
        return false;
    return value_of(env, &stack[0], out);
}
