/* A WSGI environ made into a request, in C (optional).
 *
 * The accelerator of ``kettle.adapters.wsgi.build_request`` (see _builder.h)
 * for the usual environ: ASCII PATH_INFO, SCRIPT_NAME and QUERY_STRING, a Host
 * header, str values where PEP 3333 says str, a path that needs no
 * normalising. Any other goes to the function: this code has no decoding, no
 * SERVER_NAME and no keyword arguments to get right.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "_builder.h"
#include <string.h>

/* Interned strings of this module. */
static PyObject *k_host, *k_script, *k_path, *k_query, *k_method, *k_scheme, *k_remote,
    *k_input, *k_terminated, *a_environ, *s_get;

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
    f->scheme = lookup(environ, k_scheme);
    if (f->scheme == NULL) {
        if (PyErr_Occurred()) {
            return -1;
        }
        f->scheme = Py_NewRef(s_http);
    }
    if (!PyUnicode_CheckExact(f->scheme)) {
        return 0;
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

static PyObject *
builder_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    return builder_make(type, args, kwargs, (vectorcallfunc)environ_vectorcall, 0);
}

PyDoc_STRVAR(builder_doc,
"Builder(fallback, upper_methods, checked_hosts, unchecked, factory)\n--\n\n"
"``build_request(request_class, environ, keep_environ=False, path_info=None)``:\n"
"the usual environ in C, ``fallback`` (that function) for any other.");

static PyTypeObject BuilderType =
    KETTLE_BUILDER_TYPE("kettle.adapters._environ.Builder", builder_new, builder_doc);

static int
module_exec(PyObject *module)
{
    static const Name names[] = {
        {&k_host, "HTTP_HOST"},
        {&k_script, "SCRIPT_NAME"},
        {&k_path, "PATH_INFO"},
        {&k_query, "QUERY_STRING"},
        {&k_method, "REQUEST_METHOD"},
        {&k_scheme, "wsgi.url_scheme"},
        {&k_remote, "REMOTE_ADDR"},
        {&k_input, "wsgi.input"},
        {&k_terminated, "wsgi.input_terminated"},
        {&a_environ, "environ"},
        {&s_get, "GET"},
    };
    return builder_module_exec(module, names, sizeof(names) / sizeof(names[0]), &BuilderType);
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
