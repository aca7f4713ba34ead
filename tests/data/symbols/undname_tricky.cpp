// Names chosen to exercise the MSVC decoration grammar (test_undname oracle list).
#include <stddef.h>
namespace outer { namespace inner {
struct Cache { void *Lookup(int); static int count; virtual ~Cache(); virtual int get() const; int operator()(int, int);
  Cache &operator=(const Cache &); Cache &operator=(Cache &&); bool operator==(const Cache &) const; operator int() const;
  void *operator new(size_t); void operator delete(void *); void *operator new[](size_t); void operator delete[](void *);
  int operator[](long) volatile; Cache *operator->(); int operator->*(int); int operator<=>(const Cache&) const; };
void *Cache::Lookup(int) { return 0; }
int Cache::count = 3;
Cache::~Cache() {}
int Cache::get() const { return 1; }
int Cache::operator()(int a, int b) { return a + b; }
Cache &Cache::operator=(const Cache &) { return *this; }
Cache &Cache::operator=(Cache &&) { return *this; }
bool Cache::operator==(const Cache &) const { return true; }
Cache::operator int() const { return 0; }
void *Cache::operator new(size_t) { return 0; }
void Cache::operator delete(void *) {}
void *Cache::operator new[](size_t) { return 0; }
void Cache::operator delete[](void *) {}
int Cache::operator[](long) volatile { return 0; }
Cache *Cache::operator->() { return this; }
int Cache::operator->*(int) { return 0; }
int Cache::operator<=>(const Cache&) const { return 0; }
}}
namespace { int hidden(int x) { return x; } struct Anon { int f(); }; int Anon::f() { return 2; } }
int use_anon() { Anon a; return hidden(1) + a.f(); }
template <typename T, int N> struct Box { T items[N]; T get(int i) const; static T zero; template <class U> U conv(U) const; };
template <typename T, int N> T Box<T, N>::get(int i) const { return items[i]; }
template <typename T, int N> T Box<T, N>::zero;
template <typename T, int N> template <class U> U Box<T, N>::conv(U u) const { return u; }
template struct Box<int, 4>;
template struct Box<const char *, -1 + 3>;
template struct Box<outer::inner::Cache *, 1>;
template double Box<int, 4>::conv<double>(double) const;
template <typename... A> int pack(A...) { return sizeof...(A); }
template int pack<>();
template int pack<int, char, long long>(int, char, long long);
int backrefs(outer::inner::Cache *, outer::inner::Cache *, const outer::inner::Cache &, outer::inner::Cache **, Box<int, 4>, Box<int, 4> *) { return 0; }
int fptrs(int (*)(int), void (*)(void), int (*(*)(char))(double), int (outer::inner::Cache::*)(int, int), int outer::inner::Cache::*) { return 0; }
int arrays(int (*)[3], int (&)[2][5], const char (&)[7]) { return 0; }
int quals(const volatile int *, int *const, const int *const *, int &&, volatile long &, unsigned char, signed char, wchar_t, char16_t, char32_t, bool, float, double, long double, unsigned long long, short, unsigned short, decltype(nullptr)) { return 0; }
int varargs(const char *, ...) { return 0; }
extern "C" int plain_c(int) { return 0; }
int __stdcall stdcall_fn(int) { return 0; }
int __fastcall fastcall_fn(int) { return 0; }
int __vectorcall vectorcall_fn(int) { return 0; }
int local_static() { static int counter = 0; return ++counter; }
struct Base1 { virtual void a(); }; struct Base2 { virtual void b(); };
struct Multi : Base1, Base2 { void a() override; void b() override; };
void Base1::a() {} void Base2::b() {} void Multi::a() {} void Multi::b() {}
enum Color { Red }; enum class Scoped : short { One };
Color colors(Color, Scoped, Color) { return Red; }
struct Outer { struct Nested { struct Deeper { static int value(Outer::Nested *); }; }; };
int Outer::Nested::Deeper::value(Outer::Nested *) { return 0; }
template <int *P> int ptr_arg() { return *P; }
int global_int = 5;
template int ptr_arg<&global_int>();
template <typename T> struct Tmpl { Tmpl(); ~Tmpl(); };
template <typename T> Tmpl<T>::Tmpl() {} template <typename T> Tmpl<T>::~Tmpl() {}
template struct Tmpl<Tmpl<Box<int, 4>>>;
auto lam = [](int x) { return x + 1; };
int call_lam() { return lam(2); }
const char *strings() { return "hello, world\n\t'quoted' \"dq\" \\ \x01\xff"; }
const wchar_t *wstrings() { return L"wide \u00e9 string that is rather long, longer than thirty-two characters"; }
const char16_t *u16() { return u"sixteen"; }
const char32_t *u32() { return U"thirty-two"; }
int noexcept_fn(int) noexcept { return 0; }
struct Virt : virtual Base1 { int v; }; Virt make_virt() { return Virt(); }
