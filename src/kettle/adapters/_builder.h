/* The fields of a request and ``Request.__init__``'s own steps, for ``_builders.c``.
 *
 * Each is the accelerator of the call its adapter makes once per request. A
 * Builder does what that function does, then what ``Request.__init__``
 * (kettle/http/request.py) does with the fields it passes, for a class that
 * lets the adapter make the request as ``object.__new__`` then that
 * ``__init__`` (``init_directly``), and for a usual request. Every other call
 * goes, unchanged, to ``fallback`` (the Python function), before anything is
 * made. Here: the fields, ``__init__``'s own steps (``settle_fields``,
 * ``new_request``) and the helpers both readers use.
 *
 * The fields are stored by ``PyObject_SetAttr`` in ``__init__``'s order, each
 * only when ``__init__`` stores it: a subclass's ``__setattr__`` or data
 * descriptor sees what it would see in Python, and the instance's dict keeps
 * the layout ``kettle.http._layout`` settles. The differential tests in
 * tests/request/test_request_builders_accelerator.py compare the two whole
 * dicts.
 */
#ifndef KETTLE_BUILDER_H
#define KETTLE_BUILDER_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "_accelerator.h"
#include <stddef.h>

typedef struct {
    PyObject_HEAD
    PyObject *fallback;      /* the Python function: called with the same arguments */
    PyObject *upper_methods; /* frozenset: the methods __init__ stores as given */
    PyObject *checked_hosts; /* dict: (host, scheme) -> the host checked, or None */
    PyObject *unchecked;     /* ``_checked_host`` before the Host is checked */
    PyObject *factory;       /* environ or scope -> the callable that builds its headers */
    PyObject *schemes;       /* ASGI: a websocket scheme -> its HTTP scheme (else NULL) */
    vectorcallfunc vectorcall;
} Builder;

/* Interned strings: the attributes' names and constants (each module's own copy). */
static PyObject *a_init_directly, *a_reads_kept_source, *a_method, *a_path, *a_scheme,
    *a_root_path, *a_query_string, *a_host_header, *a_form_loaded, *a_checked_host,
    *a_host_is_valid, *a_headers_factory, *a_remote_addr, *a_stream, *a_input_terminated,
    *a_owns_stream, *a_upper, *s_http, *s_slash, *empty_tuple;

/* A table of strings to intern at a module's start. */
typedef struct {
    PyObject **slot;
    const char *text;
} Name;

/* Intern each of ``count`` names once: 0, or -1 on an error. */
static int
intern_names(const Name *names, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (*names[i].slot == NULL &&
            (*names[i].slot = PyUnicode_InternFromString(names[i].text)) == NULL) {
            return -1;
        }
    }
    return 0;
}

/* The shared names and the empty tuple, made once: 0, or -1 on an error. */
static int
builder_names(void)
{
    static const Name names[] = {
        {&a_init_directly, "init_directly"}, {&a_reads_kept_source, "reads_kept_source"},
        {&a_method, "method"}, {&a_path, "path"}, {&a_scheme, "scheme"},
        {&a_root_path, "root_path"}, {&a_query_string, "query_string"},
        {&a_host_header, "_host_header"}, {&a_form_loaded, "_form_loaded"},
        {&a_checked_host, "_checked_host"}, {&a_host_is_valid, "host_is_valid"},
        {&a_headers_factory, "_headers_factory"}, {&a_remote_addr, "remote_addr"},
        {&a_stream, "_stream"}, {&a_input_terminated, "_input_terminated"},
        {&a_owns_stream, "owns_stream"}, {&a_upper, "upper"}, {&s_http, "http"},
        {&s_slash, "/"},
    };
    if (intern_names(names, sizeof(names) / sizeof(names[0])) < 0) {
        return -1;
    }
    if (empty_tuple == NULL && (empty_tuple = PyTuple_New(0)) == NULL) {
        return -1;
    }
    return 0;
}

/* What a call reads and makes before the request exists. Every reference is owned:
 * Python code may run in between (the headers factory, a ``__bool__``) and change the
 * environ or the scope. */
typedef struct {
    PyObject *method, *path, *scheme, *root_path, *query_string, *host, *checked;
    PyObject *factory, *remote_addr, *stream;
    int terminated, owns_stream;
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

static PyObject *
call_fallback(Builder *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    return PyObject_Vectorcall(self->fallback, args, nargsf, kwnames);
}

/* ``mapping.get(key)`` of an exact dict, as a new reference; NULL when absent (no error
 * set) or on an error (set). */
static inline PyObject *
lookup(PyObject *mapping, PyObject *key)
{
    return Py_XNewRef(PyDict_GetItemWithError(mapping, key));
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

/* 1 when ``__init__`` keeps the str ``path`` as it is ("/" or "/x...", never "//..."
 * nor "x..."), else 0: a path to normalise is the fallback's. */
static int
plain_path(PyObject *path)
{
    Py_ssize_t length = PyUnicode_GET_LENGTH(path);
    return length > 0 && PyUnicode_READ_CHAR(path, 0) == '/' &&
           (length == 1 || PyUnicode_READ_CHAR(path, 1) != '/');
}

/* ``text.rstrip("/")`` of a non-empty str: a new reference, NULL on an error. */
static PyObject *
without_trailing_slashes(PyObject *text)
{
    Py_ssize_t end = PyUnicode_GET_LENGTH(text);
    while (end > 0 && PyUnicode_READ_CHAR(text, end - 1) == '/') {
        end--;
    }
    return PyUnicode_Substring(text, 0, end);
}

/* ``f->scheme = mapping.get(key, "http")``: 1 when it is a str, 0 when it is not (the
 * fallback's case), -1 on an error. */
static int
read_scheme(PyObject *mapping, PyObject *key, Fields *f)
{
    f->scheme = lookup(mapping, key);
    if (f->scheme == NULL) {
        if (PyErr_Occurred()) {
            return -1;
        }
        f->scheme = Py_NewRef(s_http);
    }
    return PyUnicode_CheckExact(f->scheme);
}

/* What ``__init__`` computes from its arguments before storing: the method upper-cased
 * unless it is one servers send, ``root_path.rstrip("/")``, the Host checked before.
 * 0, or -1 on an error. */
static int
settle_fields(Builder *self, Fields *f)
{
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
    if (f->root_path != NULL) {
        Py_SETREF(f->root_path, without_trailing_slashes(f->root_path));
        if (f->root_path == NULL) {
            return -1;
        }
    }
    PyObject *checked = NULL;
    if (f->host != NULL && f->host != Py_None && PyUnicode_GET_LENGTH(f->host) > 0) {
        /* ``checked_hosts.get((host, scheme), _UNCHECKED)`` */
        PyObject *key = PyTuple_Pack(2, f->host, f->scheme);
        if (key == NULL) {
            return -1;
        }
        checked = PyDict_GetItemWithError(self->checked_hosts, key);
        Py_DECREF(key);
        if (checked == NULL && PyErr_Occurred()) {
            return -1;
        }
    }
    f->checked = Py_NewRef(checked == NULL ? self->unchecked : checked);
    return 0;
}

/* Store ``value`` as ``name`` (interned) on ``request``: 0, or -1 on an error. The
 * generic store directly when the class has no ``__setattr__`` of its own (what
 * ``PyObject_SetAttr`` would call, without interning the name again). */
static inline int
store(PyObject *request, PyObject *name, PyObject *value)
{
    if (Py_TYPE(request)->tp_setattro == PyObject_GenericSetAttr) {
        return PyObject_GenericSetAttr(request, name, value);
    }
    return PyObject_SetAttr(request, name, value);
}

/* ``object.__new__(cls)`` then ``Request.__init__``'s stores, in its order: the request,
 * or NULL on an error. */
static PyObject *
new_request(Builder *self, PyObject *cls, Fields *f)
{
    /* ``init_directly`` says the class keeps ``object.__new__``. */
    PyObject *request = PyBaseObject_Type.tp_new((PyTypeObject *)cls, empty_tuple, NULL);
    if (request == NULL) {
        return NULL;
    }
    if (store(request, a_method, f->method) < 0 || store(request, a_path, f->path) < 0 ||
        (PyUnicode_CompareWithASCIIString(f->scheme, "http") != 0 &&
         store(request, a_scheme, f->scheme) < 0) ||
        /* Stored when it was given (even if it strips to ""), as __init__ tests it. */
        (f->root_path != NULL && store(request, a_root_path, f->root_path) < 0) ||
        (f->query_string != NULL && store(request, a_query_string, f->query_string) < 0) ||
        store(request, a_host_header, f->host == NULL ? Py_None : f->host) < 0 ||
        store(request, a_form_loaded, Py_False) < 0 ||
        store(request, a_checked_host, f->checked) < 0 ||
        (f->checked != self->unchecked &&
         store(request, a_host_is_valid, f->checked != Py_None ? Py_True : Py_False) < 0) ||
        (f->factory != NULL && store(request, a_headers_factory, f->factory) < 0) ||
        (f->remote_addr != NULL && f->remote_addr != Py_None &&
         store(request, a_remote_addr, f->remote_addr) < 0) ||
        store(request, a_stream, f->stream == NULL ? Py_None : f->stream) < 0 ||
        (!f->terminated && store(request, a_input_terminated, Py_False) < 0) ||
        store(request, a_owns_stream, f->owns_stream ? Py_True : Py_False) < 0) {
        Py_DECREF(request);
        return NULL;
    }
    return request;
}

#endif
