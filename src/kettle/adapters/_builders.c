/* The request of a WSGI environ or an ASGI scope, built in C (optional).
 *
 * The accelerator of the call each adapter makes once per request (see
 * _builder.h): a Builder made for "wsgi" is ``kettle.adapters.wsgi.build_request``
 * for the usual environ (ASCII PATH_INFO, SCRIPT_NAME and QUERY_STRING, a Host
 * header, str values where PEP 3333 says str, a path that needs no
 * normalising); one made for "asgi" is ``kettle.adapters.asgi_request.scope_request``
 * for the usual scope (its headers a list or tuple of (bytes, bytes) pairs, str
 * and bytes where the spec says so, a path that needs no normalising), which
 * also answers what its one pass over the headers found. Any other call goes to
 * the function: this code has no decoding, no SERVER_NAME and no keyword
 * arguments to get right.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "_builder.h"
#include <string.h>

/* Interned strings of this module (the environ's and the scope's keys, the names the
 * adapters add), and "\x00" (a repeated Host: see ``scan_headers``). */
static PyObject *k_host, *k_script, *k_path, *k_query, *k_method, *k_scheme, *k_remote,
    *k_input, *k_terminated, *a_environ, *s_get;
static PyObject *s_nul, *k_headers, *k_root_path, *k_scope_scheme, *k_query_string, *k_client,
    *a_request_class, *a_scope, *a_cookie_header, *a_content_type, *a_url_rule,
    *a_routing_exception, *s_empty, *s_comma, *s_semicolon;

/* ---- WSGI: ``build_request(request_class, environ, keep_environ=False, path_info=None)`` */

/* Fill ``f`` from the environ as build_request does: 1 when done, 0 when the call is
 * the fallback's, -1 on an error. */
static int
environ_fields(PyObject *environ, PyObject *path_info, Fields *f)
{
    f->host = lookup(environ, k_host);
    if (f->host == NULL && PyErr_Occurred()) {
        return -1;
    }
    if (text_state(f->host) != 1) {
        return 0; /* No Host: the server's name and port (``server_from_environ``). */
    }
    /* ``path_info or environ.get("PATH_INFO") or "/"`` */
    int state = text_state(path_info);
    if (state != 0) {
        f->path = Py_NewRef(path_info);
    }
    else {
        f->path = lookup(environ, k_path);
        if (f->path == NULL && PyErr_Occurred()) {
            return -1;
        }
        state = text_state(f->path);
        if (state == 0) {
            Py_XSETREF(f->path, Py_NewRef(s_slash));
            state = 1;
        }
    }
    if (state < 0 || !PyUnicode_IS_ASCII(f->path) || !plain_path(f->path)) {
        return 0; /* Not a str, a path to decode or one to normalise. */
    }
    f->method = lookup(environ, k_method);
    if (f->method == NULL && PyErr_Occurred()) {
        return -1;
    }
    state = text_state(f->method);
    if (state < 0) {
        return 0;
    }
    if (state == 0) {
        Py_XSETREF(f->method, Py_NewRef(s_get));
    }
    state = read_scheme(environ, k_scheme, f);
    if (state <= 0) {
        return state;
    }
    f->root_path = lookup(environ, k_script);
    if (f->root_path == NULL && PyErr_Occurred()) {
        return -1;
    }
    state = text_state(f->root_path);
    if (state < 0 || (state && !PyUnicode_IS_ASCII(f->root_path))) {
        return 0;
    }
    if (state == 0) {
        Py_CLEAR(f->root_path);
    }
    PyObject *query = lookup(environ, k_query);
    if (query == NULL && PyErr_Occurred()) {
        return -1;
    }
    state = text_state(query);
    if (state > 0) {
        f->query_string = PyUnicode_IS_ASCII(query)
            ? PyBytes_FromStringAndSize((const char *)PyUnicode_1BYTE_DATA(query),
                                        PyUnicode_GET_LENGTH(query))
            : PyUnicode_AsEncodedString(query, "latin-1", "replace");
    }
    Py_XDECREF(query);
    if (state < 0) {
        return 0;
    }
    return state > 0 && f->query_string == NULL ? -1 : 1;
}

/* The rest of build_request's reads: headers, address, stream. 0, or -1 on an error. */
static int
environ_source(Builder *self, PyObject *cls, PyObject *environ, int keep, Fields *f)
{
    int kept_source = keep ? class_flag(cls, a_reads_kept_source) : 0;
    if (kept_source < 0) {
        return -1;
    }
    if (!kept_source) {
        f->factory = PyObject_CallOneArg(self->factory, environ);
        if (f->factory == NULL) {
            return -1;
        }
        f->remote_addr = lookup(environ, k_remote);
        if (f->remote_addr == NULL && PyErr_Occurred()) {
            return -1;
        }
    }
    f->stream = lookup(environ, k_input);
    if (f->stream == NULL && PyErr_Occurred()) {
        return -1;
    }
    PyObject *terminated = lookup(environ, k_terminated);
    if (terminated == NULL) {
        f->terminated = 0;
        return PyErr_Occurred() ? -1 : 0;
    }
    f->terminated = PyObject_IsTrue(terminated);
    Py_DECREF(terminated);
    return f->terminated < 0 ? -1 : 0;
}

static PyObject *
environ_vectorcall(Builder *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (kwnames != NULL || nargs < 2 || nargs > 4 || !PyType_Check(args[0]) ||
        !PyDict_CheckExact(args[1])) {
        return call_fallback(self, args, nargsf, kwnames);
    }
    PyObject *cls = args[0], *environ = args[1];
    int keep = nargs > 2 ? PyObject_IsTrue(args[2]) : 0;
    if (keep < 0) {
        return NULL;
    }
    int direct = class_flag(cls, a_init_directly);
    if (direct <= 0) {
        return direct < 0 ? NULL : call_fallback(self, args, nargsf, kwnames);
    }
    Fields f = {0};
    int done = environ_fields(environ, nargs > 3 ? args[3] : NULL, &f);
    if (done == 0) {
        fields_clear(&f);
        return call_fallback(self, args, nargsf, kwnames);
    }
    PyObject *request = NULL;
    if (done > 0 && environ_source(self, cls, environ, keep, &f) == 0 &&
        settle_fields(self, &f) == 0) {
        request = new_request(self, cls, &f);
        if (request != NULL && keep && store(request, a_environ, environ) < 0) {
            Py_CLEAR(request);
        }
    }
    fields_clear(&f);
    return request;
}

/* ---- ASGI: ``scope_request(app, scope, method, path)`` */

/* What one pass over the scope's headers finds (``scope_request``'s loop). A field
 * repeated is gathered in a list and joined once at the end: linear in the headers. */
typedef struct {
    PyObject *length, *cookie, *kind;
    PyObject *lengths, *cookies; /* NULL until a second field of the name */
    int chunked;
} Scanned;

static void
scanned_clear(Scanned *s)
{
    Py_CLEAR(s->length);
    Py_CLEAR(s->cookie);
    Py_CLEAR(s->kind);
    Py_CLEAR(s->lengths);
    Py_CLEAR(s->cookies);
}

/* ``text`` as the field's first value (``*first``), or added to ``*more``: 0, or -1. */
static int
gather(PyObject **first, PyObject **more, PyObject *text)
{
    if (*first == NULL) {
        *first = Py_NewRef(text);
        return 0;
    }
    if (*more == NULL) {
        *more = PyList_New(0);
        if (*more == NULL || PyList_Append(*more, *first) < 0) {
            return -1;
        }
    }
    return PyList_Append(*more, text);
}

/* ``*first = separator.join(more)`` when the field came more than once: 0, or -1. */
static int
join_gathered(PyObject **first, PyObject *more, PyObject *separator)
{
    if (more == NULL) {
        return 0;
    }
    Py_XSETREF(*first, PyUnicode_Join(separator, more));
    return *first == NULL ? -1 : 0;
}

static inline int
named(const char *name, Py_ssize_t size, const char *wanted)
{
    return (size_t)size == strlen(wanted) && memcmp(name, wanted, (size_t)size) == 0;
}

/* The pass over ``headers`` (a list or tuple of (bytes, bytes) pairs): 1 when done,
 * 0 when the call is the fallback's (another shape), -1 on an error. The Host goes to
 * ``f->host``: a NUL when repeated (RFC 9112 3.2: a 400). */
static int
scan_headers(PyObject *headers, Fields *f, Scanned *s)
{
    if (!PyList_CheckExact(headers) && !PyTuple_CheckExact(headers)) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(headers); i++) {
        PyObject *pair = PySequence_Fast_GET_ITEM(headers, i);
        if (!(PyTuple_CheckExact(pair) || PyList_CheckExact(pair)) ||
            PySequence_Fast_GET_SIZE(pair) != 2) {
            return 0;
        }
        PyObject *name = PySequence_Fast_GET_ITEM(pair, 0);
        PyObject *value = PySequence_Fast_GET_ITEM(pair, 1);
        if (!PyBytes_CheckExact(name) || !PyBytes_CheckExact(value)) {
            return 0;
        }
        const char *text = PyBytes_AS_STRING(name);
        Py_ssize_t size = PyBytes_GET_SIZE(name);
        if (named(text, size, "transfer-encoding")) {
            s->chunked = 1;
            continue;
        }
        if (named(text, size, "content-type")) {
            if (s->kind == NULL) {
                s->kind = Py_NewRef(value);
            }
            continue;
        }
        int host = named(text, size, "host");
        int length = !host && named(text, size, "content-length");
        if (!host && !length && !named(text, size, "cookie")) {
            continue;
        }
        if (host && f->host != NULL) {
            Py_SETREF(f->host, Py_NewRef(s_nul));
            continue;
        }
        PyObject *decoded =
            PyUnicode_DecodeLatin1(PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value), NULL);
        if (decoded == NULL) {
            return -1;
        }
        int failed = host     ? (f->host = Py_NewRef(decoded), 0)
                     : length ? gather(&s->length, &s->lengths, decoded)
                              : gather(&s->cookie, &s->cookies, decoded);
        Py_DECREF(decoded);
        if (failed) {
            return -1;
        }
    }
    /* ``f"{length}, {text}"`` and ``f"{cookie}; {text}"`` repeated, in one join each. */
    if (join_gathered(&s->length, s->lengths, s_comma) < 0 ||
        join_gathered(&s->cookie, s->cookies, s_semicolon) < 0) {
        return -1;
    }
    return 1;
}

/* Fill ``f`` and ``s`` from the scope as scope_request does, before the class is asked:
 * 1 when done, 0 when the call is the fallback's, -1 on an error. */
static int
scope_fields(Builder *self, PyObject *scope, PyObject *method, PyObject *path, Fields *f,
             Scanned *s)
{
    PyObject *headers = lookup(scope, k_headers);
    if (headers == NULL) {
        return PyErr_Occurred() ? -1 : 0; /* (A KeyError: the fallback's.) */
    }
    int done = scan_headers(headers, f, s);
    Py_DECREF(headers);
    if (done <= 0) {
        return done;
    }
    f->root_path = lookup(scope, k_root_path);
    if (f->root_path == NULL && PyErr_Occurred()) {
        return -1;
    }
    int state = f->root_path == NULL ? 0 : text_state(f->root_path);
    if (state < 0 || f->root_path == Py_None) {
        return 0;
    }
    if (f->root_path == NULL) {
        f->root_path = Py_NewRef(s_empty);
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(path);
    if (state > 0) {
        Py_ssize_t prefix = PyUnicode_Tailmatch(path, f->root_path, 0, length, -1);
        if (prefix < 0) {
            return -1;
        }
        f->path = prefix ? PyUnicode_Substring(path, PyUnicode_GET_LENGTH(f->root_path), length)
                         : Py_NewRef(path);
        if (f->path == NULL) {
            return -1;
        }
    }
    else {
        f->path = Py_NewRef(path);
        Py_CLEAR(f->root_path); /* "": not stored. */
    }
    if (PyUnicode_GET_LENGTH(f->path) == 0) {
        Py_SETREF(f->path, Py_NewRef(s_slash)); /* ``path or "/"`` */
    }
    if (!plain_path(f->path)) {
        return 0;
    }
    state = read_scheme(scope, k_scope_scheme, f);
    if (state <= 0) {
        return state;
    }
    PyObject *http = PyDict_GetItemWithError(self->schemes, f->scheme);
    if (http == NULL && PyErr_Occurred()) {
        return -1;
    }
    if (http != NULL) {
        Py_SETREF(f->scheme, Py_NewRef(http));
    }
    f->query_string = lookup(scope, k_query_string);
    if (f->query_string == NULL && PyErr_Occurred()) {
        return -1;
    }
    if (f->query_string != NULL && !PyBytes_CheckExact(f->query_string)) {
        return 0;
    }
    if (f->query_string != NULL && PyBytes_GET_SIZE(f->query_string) == 0) {
        Py_CLEAR(f->query_string);
    }
    f->method = Py_NewRef(method);
    f->terminated = 1;
    f->owns_stream = 1;
    return 1;
}

/* The client address scope_request passes: 1 when read, 0 when the fallback's. */
static int
scope_client(PyObject *scope, Fields *f)
{
    PyObject *client = lookup(scope, k_client);
    if (client == NULL) {
        return PyErr_Occurred() ? -1 : 1;
    }
    int read = 1;
    if ((PyTuple_CheckExact(client) || PyList_CheckExact(client)) &&
        PySequence_Fast_GET_SIZE(client) > 0) {
        f->remote_addr = Py_NewRef(PySequence_Fast_GET_ITEM(client, 0));
    }
    else if (client != Py_None && !((PyTuple_CheckExact(client) || PyList_CheckExact(client)))) {
        read = 0;
    }
    Py_DECREF(client);
    return read;
}

static PyObject *
scope_vectorcall(Builder *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    if (kwnames != NULL || PyVectorcall_NARGS(nargsf) != 4 || !PyDict_CheckExact(args[1]) ||
        !PyUnicode_CheckExact(args[2]) || !PyUnicode_CheckExact(args[3])) {
        return call_fallback(self, args, nargsf, kwnames);
    }
    PyObject *scope = args[1], *cls = NULL, *request = NULL, *answer = NULL;
    Fields f = {0};
    Scanned s = {0};
    int done = scope_fields(self, scope, args[2], args[3], &f, &s);
    if (done > 0) {
        cls = PyObject_GetAttr(args[0], a_request_class);
        done = cls == NULL ? -1 : PyType_Check(cls) ? class_flag(cls, a_init_directly) : 0;
    }
    int kept_source = done > 0 ? class_flag(cls, a_reads_kept_source) : 0;
    if (kept_source < 0) {
        done = -1;
    }
    if (done > 0 && !kept_source) {
        done = scope_client(scope, &f);
        if (done > 0) {
            f.factory = PyObject_CallOneArg(self->factory, scope);
            done = f.factory == NULL ? -1 : 1;
        }
    }
    if (done == 0) {
        answer = call_fallback(self, args, nargsf, kwnames);
    }
    else if (done > 0 && settle_fields(self, &f) == 0 &&
             (request = new_request(self, cls, &f)) != NULL) {
        if (store(request, a_scope, scope) == 0 &&
            (s.cookie == NULL || store(request, a_cookie_header, s.cookie) == 0) &&
            (s.kind == NULL || store(request, a_content_type, s.kind) == 0) &&
            store(request, a_url_rule, Py_None) == 0 &&
            store(request, a_routing_exception, Py_None) == 0) {
            answer = PyTuple_Pack(4, request, s.length ? s.length : Py_None,
                                  s.chunked ? Py_True : Py_False, s.cookie ? s.cookie : Py_None);
        }
        Py_DECREF(request);
    }
    Py_XDECREF(cls);
    fields_clear(&f);
    scanned_clear(&s);
    return answer;
}

/* ---- the type */

/* ``Builder(protocol, fallback, upper_methods, checked_hosts, unchecked, factory,
 * schemes=None)``: "wsgi" builds from an environ, "asgi" (with ``schemes``) from a scope. */
static PyObject *
builder_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"protocol",  "fallback", "upper_methods", "checked_hosts",
                               "unchecked", "factory",  "schemes",       NULL};
    const char *protocol;
    PyObject *fallback, *upper_methods, *checked_hosts, *unchecked, *factory;
    PyObject *schemes = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "sOO!O!OO|O!:Builder", keywords, &protocol,
                                     &fallback, &PyFrozenSet_Type, &upper_methods,
                                     &PyDict_Type, &checked_hosts, &unchecked, &factory,
                                     &PyDict_Type, &schemes)) {
        return NULL;
    }
    int asgi = strcmp(protocol, "asgi") == 0;
    if (!asgi && strcmp(protocol, "wsgi") != 0) {
        PyErr_SetString(PyExc_ValueError, "Builder: protocol must be 'wsgi' or 'asgi'");
        return NULL;
    }
    if ((schemes != NULL) != asgi) {
        PyErr_SetString(PyExc_TypeError, asgi ? "Builder: 'asgi' needs schemes"
                                              : "Builder: 'wsgi' takes no schemes");
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
    self->schemes = Py_XNewRef(schemes);
    self->vectorcall = (vectorcallfunc)(asgi ? scope_vectorcall : environ_vectorcall);
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
    Py_VISIT(self->schemes);
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
    Py_CLEAR(self->schemes);
    return 0;
}

PyDoc_STRVAR(builder_doc,
"Builder(protocol, fallback, upper_methods, checked_hosts, unchecked, factory,\n"
"        schemes=None)\n--\n\n"
"\"wsgi\": ``build_request(request_class, environ, keep_environ=False,\n"
"path_info=None)``; \"asgi\" (with ``schemes``): ``scope_request(app, scope,\n"
"method, path)``. The usual request in C, ``fallback`` (that function) for any other.");

static PyTypeObject BuilderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "kettle.adapters._builders.Builder",
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

static int
module_exec(PyObject *module)
{
    static const Name names[] = {
        {&k_host, "HTTP_HOST"}, {&k_script, "SCRIPT_NAME"}, {&k_path, "PATH_INFO"},
        {&k_query, "QUERY_STRING"}, {&k_method, "REQUEST_METHOD"},
        {&k_scheme, "wsgi.url_scheme"}, {&k_remote, "REMOTE_ADDR"},
        {&k_input, "wsgi.input"}, {&k_terminated, "wsgi.input_terminated"},
        {&a_environ, "environ"}, {&s_get, "GET"}, {&k_headers, "headers"},
        {&k_root_path, "root_path"}, {&k_scope_scheme, "scheme"},
        {&k_query_string, "query_string"}, {&k_client, "client"},
        {&a_request_class, "request_class"}, {&a_scope, "scope"},
        {&a_cookie_header, "scope_cookie_header"}, {&a_content_type, "scope_content_type"},
        {&a_url_rule, "url_rule"}, {&a_routing_exception, "routing_exception"},
        {&s_empty, ""}, {&s_comma, ", "}, {&s_semicolon, "; "},
    };
    if (builder_names() < 0 || intern_names(names, sizeof(names) / sizeof(names[0])) < 0) {
        return -1;
    }
    if (s_nul == NULL && (s_nul = PyUnicode_FromOrdinal(0)) == NULL) {
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
    .m_name = "kettle.adapters._builders",
    .m_doc = "The request of a WSGI environ or an ASGI scope, built in C (optional).",
    .m_size = 0,
    .m_slots = slots,
};

PyMODINIT_FUNC
PyInit__builders(void)
{
    return PyModuleDef_Init(&module_def);
}
