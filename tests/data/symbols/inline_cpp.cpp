// inline_cpp.cpp - C++ inline frames for test_pdb_inlines (#19): a member
// function (LF_MFUNC_ID) and a namespaced function (LF_FUNC_ID with an
// LF_STRING_ID scope) inlined at -O2 into a procedure.
extern "C" int df_sink(int);
volatile int g_v;
namespace store {
struct Cache {
    int slots[8];
    int lookup(int k) { g_v++; return df_sink(slots[k & 7] + k); }
};
inline int probe(Cache &c, int k) { g_v += 2; return c.lookup(k) * 3; }
}
extern "C" __declspec(noinline) int df_serve(store::Cache *c, int k) { return store::probe(*c, k) + 1; }
extern "C" __declspec(noinline) int df_sink(int x) { return x ^ g_v; }
extern "C" int start() { store::Cache c = {}; return df_serve(&c, g_v); }
