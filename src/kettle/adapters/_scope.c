/* An ASGI scope made into a request, in C (optional).
 *
 * The accelerator of ``kettle.adapters.asgi.scope_request`` (see _builder.h)
 * for the usual scope: its headers a list or tuple of (bytes, bytes) pairs,
 * str and bytes where the spec says so, a request class the app made as
 * ``init_directly`` allows, a path that needs no normalising. Any other goes
 * to the function. Besides the request it answers what the one pass over the
 * headers found, as the function does.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "_builder.h"
#include <string.h>

/* Interned strings of this module, and "\x00" (a repeated Host: see ``scan_headers``). */
static PyObject *s_nul, *k_headers, *k_root_path, *k_scope_scheme, *k_query_string, *k_client,
    *a_request_class, *a_scope, *a_cookie_header, *a_content_type, *a_url_rule,
    *a_routing_exception, *s_empty, *s_comma, *s_semicolon;

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
    f->scheme = lookup(scope, k_scope_scheme);
    if (f->scheme == NULL) {
        if (PyErr_Occurred()) {
            return -1;
        }
        f->scheme = Py_NewRef(s_http);
    }
    if (!PyUnicode_CheckExact(f->scheme)) {
        return 0;
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

static PyObject *
builder_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    return builder_make(type, args, kwargs, (vectorcallfunc)scope_vectorcall, 1);
}

PyDoc_STRVAR(builder_doc,
"Builder(fallback, upper_methods, checked_hosts, unchecked, factory, schemes)\n--\n\n"
"``scope_request(app, scope, method, path)``: the usual scope in C,\n"
"``fallback`` (that function) for any other.");

static PyTypeObject BuilderType =
    KETTLE_BUILDER_TYPE("kettle.adapters._scope.Builder", builder_new, builder_doc);

static int
module_exec(PyObject *module)
{
    static const Name names[] = {
        {&k_headers, "headers"},
        {&k_root_path, "root_path"},
        {&k_scope_scheme, "scheme"},
        {&k_query_string, "query_string"},
        {&k_client, "client"},
        {&a_request_class, "request_class"},
        {&a_scope, "scope"},
        {&a_cookie_header, "scope_cookie_header"},
        {&a_content_type, "scope_content_type"},
        {&a_url_rule, "url_rule"},
        {&a_routing_exception, "routing_exception"},
        {&s_empty, ""},
        {&s_comma, ", "},
        {&s_semicolon, "; "},
    };
    if (s_nul == NULL && (s_nul = PyUnicode_FromOrdinal(0)) == NULL) {
        return -1;
    }
    return builder_module_exec(module, names, sizeof(names) / sizeof(names[0]), &BuilderType);
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "kettle.adapters._scope",
    .m_doc = "An ASGI scope made into a request, in C (optional).",
    .m_size = 0,
    .m_slots = slots,
};

PyMODINIT_FUNC
PyInit__scope(void)
{
    return PyModuleDef_Init(&module_def);
}
