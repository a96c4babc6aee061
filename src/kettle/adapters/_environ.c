/* A WSGI environ made into a request, in C (optional).
 *
 * The accelerator of ``kettle.adapters.wsgi.build_request`` for the call the
 * WSGI adapter makes once per request. A Builder does what that function does
 * and then what ``Request.__init__`` (kettle/http/request.py) does with the
 * fields it passes, for a class that lets the adapter make the request as
 * ``object.__new__`` then that ``__init__`` (``init_directly``), and for the
 * environ of a usual request: ASCII PATH_INFO, SCRIPT_NAME and QUERY_STRING,
 * a Host header, str values where PEP 3333 says str, and a path that needs no
 * normalising. Every other call goes, unchanged, to ``fallback`` (the Python
 * function), before anything is made: so this code has no decoding, no
 * SERVER_NAME and no keyword arguments to get right.
 *
 * The fields are stored by ``PyObject_SetAttr`` in ``__init__``'s order, each
 * only when ``__init__`` stores it: a subclass's ``__setattr__`` or data
 * descriptor sees what it would see in Python, and the instance's dict keeps
 * the layout ``kettle.http._layout`` settles. The differential tests in
 * tests/adapters/test_environ_accelerator.py compare the two whole dicts.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "_accelerator.h"
#include <stddef.h>

typedef struct {
    PyObject_HEAD
    PyObject *fallback;      /* build_request: called with the same arguments */
    PyObject *upper_methods; /* frozenset: the methods __init__ stores as given */
    PyObject *checked_hosts; /* dict: (host, scheme) -> the host checked, or None */
    PyObject *unchecked;     /* ``_checked_host`` before the Host is checked */
    PyObject *factory;       /* environ -> the function that builds its headers */
    vectorcallfunc vectorcall;
} Builder;

/* Interned strings: the environ's keys, the attributes' names, constants. */
static PyObject *k_host, *k_script, *k_path, *k_query, *k_method, *k_scheme, *k_remote,
    *k_input, *k_terminated;
static PyObject *a_init_directly, *a_reads_kept_source, *a_method, *a_path, *a_scheme,
    *a_root_path, *a_query_string, *a_host_header, *a_form_loaded, *a_checked_host,
    *a_host_is_valid, *a_headers_factory, *a_remote_addr, *a_stream, *a_input_terminated,
    *a_owns_stream, *a_environ, *a_upper;
static PyObject *s_get, *s_http, *s_slash, *empty_tuple;

static PyObject *
call_fallback(Builder *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    return PyObject_Vectorcall(self->fallback, args, nargsf, kwnames);
}

/* ``environ.get(key)`` of an exact dict, borrowed; NULL when absent (no error) or on an
 * error (set). */
static inline PyObject *
lookup(PyObject *environ, PyObject *key)
{
    return PyDict_GetItemWithError(environ, key);
}

/* 1 when ``value`` is a non-empty exact str, 0 when it is absent (NULL), None or
 * empty, -1 when it is anything else (the fallback's case). */
static int
text_state(PyObject *value)
{
    if (value == NULL || value == Py_None) {
        return 0;
    }
    if (!PyUnicode_CheckExact(value)) {
        return -1;
    }
    return PyUnicode_GET_LENGTH(value) > 0;
}

/* The class attribute ``name`` of ``cls`` as a truth value: 1, 0, or -1 with an error. */
static int
class_flag(PyObject *cls, PyObject *name)
{
    PyObject *value = PyObject_GetAttr(cls, name);
    if (value == NULL) {
        return -1;
    }
    int truth = PyObject_IsTrue(value);
    Py_DECREF(value);
    return truth;
}

/* ``text.rstrip("/")`` of a non-empty ASCII str (a new reference, NULL on error). */
static PyObject *
without_trailing_slashes(PyObject *text)
{
    const Py_UCS1 *data = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t end = PyUnicode_GET_LENGTH(text);
    while (end > 0 && data[end - 1] == '/') {
        end--;
    }
    return PyUnicode_Substring(text, 0, end);
}

/* What the call reads and makes before the request exists. Every reference is owned:
 * Python code runs in between (the headers factory, a ``__bool__``), and it may change
 * the environ. */
typedef struct {
    PyObject *method, *path, *scheme, *root_path, *query_string, *host, *checked;
    PyObject *factory, *remote_addr, *stream;
    int keep, terminated;
} Fields;

static void
fields_clear(Fields *f)
{
    Py_CLEAR(f->method);
    Py_CLEAR(f->path);
    Py_CLEAR(f->scheme);
    Py_CLEAR(f->root_path);
    Py_CLEAR(f->query_string);
    Py_CLEAR(f->host);
    Py_CLEAR(f->checked);
    Py_CLEAR(f->factory);
    Py_CLEAR(f->remote_addr);
    Py_CLEAR(f->stream);
}

/* Fill ``f`` from the environ as build_request and __init__ would: 1 when done, 0 when
 * the call is the fallback's, -1 on an error. */
static int
read_fields(Builder *self, PyObject *environ, PyObject *path_info, Fields *f)
{
    PyObject *host = lookup(environ, k_host);
    if (host == NULL && PyErr_Occurred()) {
        return -1;
    }
    PyObject *script_name = lookup(environ, k_script);
    if (script_name == NULL && PyErr_Occurred()) {
        return -1;
    }
    /* ``path_info or environ.get("PATH_INFO") or "/"`` */
    PyObject *path = path_info;
    int state = text_state(path);
    if (state == 0) {
        path = lookup(environ, k_path);
        if (path == NULL && PyErr_Occurred()) {
            return -1;
        }
        state = text_state(path);
        if (state == 0) {
            path = s_slash;
            state = 1;
        }
    }
    if (state < 0 || !PyUnicode_IS_ASCII(path)) {
        return 0; /* Not a str, or a path to decode. */
    }
    /* __init__'s path test: "/" or "/x...", never "//..." nor "x...". */
    Py_ssize_t length = PyUnicode_GET_LENGTH(path);
    const Py_UCS1 *chars = PyUnicode_1BYTE_DATA(path);
    if (chars[0] != '/' || (length > 1 && chars[1] == '/')) {
        return 0;
    }
    if (text_state(host) != 1) {
        return 0; /* No Host: the server's name and port (``server_from_environ``). */
    }
    f->path = Py_NewRef(path);
    f->host = Py_NewRef(host);
    PyObject *query = lookup(environ, k_query);
    if (query == NULL && PyErr_Occurred()) {
        return -1;
    }
    PyObject *method = lookup(environ, k_method);
    if (method == NULL && PyErr_Occurred()) {
        return -1;
    }
    state = text_state(method);
    if (state < 0) {
        return 0;
    }
    f->method = Py_NewRef(state ? method : s_get);
    PyObject *scheme = lookup(environ, k_scheme);
    if (scheme == NULL) {
        if (PyErr_Occurred()) {
            return -1;
        }
        scheme = s_http;
    }
    if (!PyUnicode_CheckExact(scheme)) {
        return 0;
    }
    f->scheme = Py_NewRef(scheme);
    state = text_state(script_name);
    if (state < 0 || (state && !PyUnicode_IS_ASCII(script_name))) {
        return 0;
    }
    if (state) {
        f->root_path = without_trailing_slashes(script_name);
        if (f->root_path == NULL) {
            return -1;
        }
    }
    state = text_state(query);
    if (state < 0) {
        return 0;
    }
    if (state) {
        f->query_string = PyUnicode_IS_ASCII(query)
            ? PyBytes_FromStringAndSize((const char *)PyUnicode_1BYTE_DATA(query),
                                        PyUnicode_GET_LENGTH(query))
            : PyUnicode_AsEncodedString(query, "latin-1", "replace");
        if (f->query_string == NULL) {
            return -1;
        }
    }
    /* The method: as given when it is one the servers send, else upper-cased. */
    int upper = PySet_Contains(self->upper_methods, f->method);
    if (upper < 0) {
        return -1;
    }
    if (!upper) {
        PyObject *upper_cased = PyObject_CallMethodNoArgs(f->method, a_upper);
        if (upper_cased == NULL) {
            return -1;
        }
        Py_SETREF(f->method, upper_cased);
    }
    /* ``checked_hosts.get((host, scheme), _UNCHECKED)`` */
    PyObject *key = PyTuple_Pack(2, host, scheme);
    if (key == NULL) {
        return -1;
    }
    PyObject *checked = PyDict_GetItemWithError(self->checked_hosts, key);
    Py_DECREF(key);
    if (checked == NULL && PyErr_Occurred()) {
        return -1;
    }
    f->checked = Py_NewRef(checked == NULL ? self->unchecked : checked);
    return 1;
}

/* The rest of build_request's reads: headers, address, stream. 0, or -1 on an error. */
static int
read_source(Builder *self, PyObject *cls, PyObject *environ, Fields *f)
{
    int kept_source = 0;
    if (f->keep) {
        kept_source = class_flag(cls, a_reads_kept_source);
        if (kept_source < 0) {
            return -1;
        }
    }
    if (!kept_source) {
        f->factory = PyObject_CallOneArg(self->factory, environ);
        if (f->factory == NULL) {
            return -1;
        }
        f->remote_addr = Py_XNewRef(lookup(environ, k_remote));
        if (f->remote_addr == NULL && PyErr_Occurred()) {
            return -1;
        }
    }
    f->stream = Py_XNewRef(lookup(environ, k_input));
    if (f->stream == NULL && PyErr_Occurred()) {
        return -1;
    }
    PyObject *terminated = lookup(environ, k_terminated);
    if (terminated == NULL) {
        if (PyErr_Occurred()) {
            return -1;
        }
        f->terminated = 0;
        return 0;
    }
    Py_INCREF(terminated); /* (Its ``__bool__`` may change the environ.) */
    f->terminated = PyObject_IsTrue(terminated);
    Py_DECREF(terminated);
    return f->terminated < 0 ? -1 : 0;
}

/* Store ``value`` as ``name`` on ``request``: 0, or -1 on an error. */
static inline int
store(PyObject *request, PyObject *name, PyObject *value)
{
    return PyObject_SetAttr(request, name, value);
}

/* ``Request.__init__``'s stores, in its order (then ``environ``, kept). */
static int
store_fields(PyObject *request, Builder *self, PyObject *environ, Fields *f)
{
    if (store(request, a_method, f->method) < 0 || store(request, a_path, f->path) < 0) {
        return -1;
    }
    if (PyUnicode_CompareWithASCIIString(f->scheme, "http") != 0 &&
        store(request, a_scheme, f->scheme) < 0) {
        return -1;
    }
    /* ``root_path.rstrip("/")``: stored when SCRIPT_NAME was not empty (even if it
     * strips to ""), as __init__ tests the value it is given. */
    if (f->root_path != NULL && store(request, a_root_path, f->root_path) < 0) {
        return -1;
    }
    if (f->query_string != NULL && store(request, a_query_string, f->query_string) < 0) {
        return -1;
    }
    if (store(request, a_host_header, f->host) < 0 ||
        store(request, a_form_loaded, Py_False) < 0 ||
        store(request, a_checked_host, f->checked) < 0) {
        return -1;
    }
    if (f->checked != self->unchecked &&
        store(request, a_host_is_valid, f->checked != Py_None ? Py_True : Py_False) < 0) {
        return -1;
    }
    if (f->factory != NULL && store(request, a_headers_factory, f->factory) < 0) {
        return -1;
    }
    if (f->remote_addr != NULL && f->remote_addr != Py_None &&
        store(request, a_remote_addr, f->remote_addr) < 0) {
        return -1;
    }
    if (store(request, a_stream, f->stream == NULL ? Py_None : f->stream) < 0) {
        return -1;
    }
    if (!f->terminated && store(request, a_input_terminated, Py_False) < 0) {
        return -1;
    }
    if (store(request, a_owns_stream, Py_False) < 0) {
        return -1;
    }
    return f->keep ? store(request, a_environ, environ) : 0;
}

static PyObject *
builder_vectorcall(Builder *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (kwnames != NULL || nargs < 2 || nargs > 4 || !PyType_Check(args[0]) ||
        !PyDict_CheckExact(args[1])) {
        return call_fallback(self, args, nargsf, kwnames);
    }
    PyObject *cls = args[0], *environ = args[1];
    Fields f = {0};
    f.keep = nargs > 2 ? PyObject_IsTrue(args[2]) : 0;
    if (f.keep < 0) {
        return NULL;
    }
    int direct = class_flag(cls, a_init_directly);
    if (direct <= 0) {
        return direct < 0 ? NULL : call_fallback(self, args, nargsf, kwnames);
    }
    int done = read_fields(self, environ, nargs > 3 ? args[3] : NULL, &f);
    if (done == 0) {
        fields_clear(&f);
        return call_fallback(self, args, nargsf, kwnames);
    }
    PyObject *request = NULL;
    if (done > 0 && read_source(self, cls, environ, &f) == 0) {
        /* ``object.__new__(cls)``: ``init_directly`` says the class keeps it. */
        request = PyBaseObject_Type.tp_new((PyTypeObject *)cls, empty_tuple, NULL);
        if (request != NULL && store_fields(request, self, environ, &f) < 0) {
            Py_CLEAR(request);
        }
    }
    fields_clear(&f);
    return request;
}

static PyObject *
builder_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {
        "fallback", "upper_methods", "checked_hosts", "unchecked", "factory", NULL};
    PyObject *fallback, *upper_methods, *checked_hosts, *unchecked, *factory;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO!O!OO:Builder", keywords, &fallback,
                                     &PyFrozenSet_Type, &upper_methods, &PyDict_Type,
                                     &checked_hosts, &unchecked, &factory)) {
        return NULL;
    }
    if (!PyDict_CheckExact(checked_hosts)) {
        PyErr_SetString(PyExc_TypeError, "Builder: checked_hosts must be a dict");
        return NULL;
    }
    Builder *self = (Builder *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->fallback = Py_NewRef(fallback);
    self->upper_methods = Py_NewRef(upper_methods);
    self->checked_hosts = Py_NewRef(checked_hosts);
    self->unchecked = Py_NewRef(unchecked);
    self->factory = Py_NewRef(factory);
    self->vectorcall = (vectorcallfunc)builder_vectorcall;
    return (PyObject *)self;
}

static int
builder_traverse(Builder *self, visitproc visit, void *arg)
{
    Py_VISIT(self->fallback);
    Py_VISIT(self->upper_methods);
    Py_VISIT(self->checked_hosts);
    Py_VISIT(self->unchecked);
    Py_VISIT(self->factory);
    return 0;
}

static int
builder_clear(Builder *self)
{
    Py_CLEAR(self->fallback);
    Py_CLEAR(self->upper_methods);
    Py_CLEAR(self->checked_hosts);
    Py_CLEAR(self->unchecked);
    Py_CLEAR(self->factory);
    return 0;
}

PyDoc_STRVAR(builder_doc,
"Builder(fallback, upper_methods, checked_hosts, unchecked, factory)\n--\n\n"
"``build_request(request_class, environ, keep_environ=False, path_info=None)``\n"
"for the usual request, ``fallback`` (``build_request`` itself) for any other.");

static PyTypeObject BuilderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "kettle.adapters._environ.Builder",
    .tp_basicsize = sizeof(Builder),
    .tp_dealloc = kettle_gc_dealloc,
    .tp_vectorcall_offset = offsetof(Builder, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = builder_doc,
    .tp_traverse = (traverseproc)builder_traverse,
    .tp_clear = (inquiry)builder_clear,
    .tp_new = builder_new,
};

/* Intern ``text`` into ``*slot`` once: 0, or -1 on an error. */
static int
intern(PyObject **slot, const char *text)
{
    if (*slot == NULL) {
        *slot = PyUnicode_InternFromString(text);
    }
    return *slot == NULL ? -1 : 0;
}

static int
module_exec(PyObject *module)
{
    struct {
        PyObject **slot;
        const char *text;
    } names[] = {
        {&k_host, "HTTP_HOST"}, {&k_script, "SCRIPT_NAME"}, {&k_path, "PATH_INFO"},
        {&k_query, "QUERY_STRING"}, {&k_method, "REQUEST_METHOD"},
        {&k_scheme, "wsgi.url_scheme"}, {&k_remote, "REMOTE_ADDR"},
        {&k_input, "wsgi.input"}, {&k_terminated, "wsgi.input_terminated"},
        {&a_init_directly, "init_directly"}, {&a_reads_kept_source, "reads_kept_source"},
        {&a_method, "method"}, {&a_path, "path"}, {&a_scheme, "scheme"},
        {&a_root_path, "root_path"}, {&a_query_string, "query_string"},
        {&a_host_header, "_host_header"}, {&a_form_loaded, "_form_loaded"},
        {&a_checked_host, "_checked_host"}, {&a_host_is_valid, "host_is_valid"},
        {&a_headers_factory, "_headers_factory"}, {&a_remote_addr, "remote_addr"},
        {&a_stream, "_stream"}, {&a_input_terminated, "_input_terminated"},
        {&a_owns_stream, "owns_stream"}, {&a_environ, "environ"}, {&a_upper, "upper"},
        {&s_get, "GET"}, {&s_http, "http"}, {&s_slash, "/"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (intern(names[i].slot, names[i].text) < 0) {
            return -1;
        }
    }
    if (empty_tuple == NULL && (empty_tuple = PyTuple_New(0)) == NULL) {
        return -1;
    }
    return kettle_add_type(module, &BuilderType, "Builder");
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "kettle.adapters._environ",
    .m_doc = "A WSGI environ made into a request, in C (optional).",
    .m_size = 0,
    .m_slots = slots,
};

PyMODINIT_FUNC
PyInit__environ(void)
{
    return PyModuleDef_Init(&module_def);
}
