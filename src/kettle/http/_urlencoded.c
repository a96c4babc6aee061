/* Split a query string or urlencoded body into an ImmutableMultiDict's layout, in C.
 *
 * The optional accelerator of kettle.http.urls.query_multidict (its docstring
 * says what the layout is). One pass over the input: "&" separates fields
 * (";" does not), the first "=" separates a key from its value, "+" is a space,
 * "%XX" is a byte (a bad escape such as "%zz" or a trailing "%4" stays as it
 * is), and each key and value is then strict UTF-8. Input that is not UTF-8
 * raises UnicodeDecodeError: the caller then takes the pure-Python path, which
 * keeps such bytes as %XX escapes. Time and memory are linear in the input: one
 * scratch buffer of its size at most, one str per key and value (a key met
 * lately is reused: ``key_of``).
 *
 * Semantics are exactly the pure-Python path's (_pure_multidict;
 * tests/core/test_core_urlencoded_accelerator.py compares the two on generated input).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "_accelerator.h"
#include <stdint.h>
#include <string.h>

/* The value of a hexadecimal digit, or -1. */
static int
hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* ``raw`` as a str: ASCII copied into a new str directly (one character from
 * CPython's cache), anything else through the strict UTF-8 decoder. */
static PyObject *
text_of(const char *raw, Py_ssize_t size)
{
    unsigned char high = 0;
    for (Py_ssize_t i = 0; i < size; i++) {
        high |= (unsigned char)raw[i];
    }
    if (high & 0x80 || size < 2) {
        return PyUnicode_DecodeUTF8(raw, size, NULL);
    }
    PyObject *text = PyUnicode_New(size, 127);
    if (text != NULL) {
        memcpy(PyUnicode_1BYTE_DATA(text), raw, (size_t)size);
    }
    return text;
}

/* The keys met lately, by a hash of their bytes: a key a client sends on every
 * request (``page``, ``tag``) is the same str each time, its hash already
 * computed, instead of a new str to allocate and hash. Only ASCII keys of
 * KEY_MIN to KEY_MAX bytes are kept; a slot holds the last key that hashed to
 * it, so the table stays KEY_SLOTS strs whatever a client sends. */
enum { KEY_SLOTS = 64, KEY_MIN = 2, KEY_MAX = 32 };

typedef struct {
    PyObject *keys[KEY_SLOTS];
} module_state;

/* The key ``raw`` as a str: from the table when it is there, else made (and kept). */
static PyObject *
key_of(module_state *state, const char *raw, Py_ssize_t size)
{
    if (size < KEY_MIN || size > KEY_MAX) {
        return text_of(raw, size);
    }
    uint32_t hash = 2166136261u; /* FNV-1a */
    unsigned char high = 0;
    for (Py_ssize_t i = 0; i < size; i++) {
        high |= (unsigned char)raw[i];
        hash = (hash ^ (unsigned char)raw[i]) * 16777619u;
    }
    if (high & 0x80) {
        return text_of(raw, size);
    }
    PyObject **slot = &state->keys[(hash ^ (hash >> 16)) % KEY_SLOTS];
    PyObject *known = *slot;
    if (known != NULL && PyUnicode_GET_LENGTH(known) == size &&
        memcmp(PyUnicode_1BYTE_DATA(known), raw, (size_t)size) == 0) {
        return Py_NewRef(known);
    }
    PyObject *key = text_of(raw, size);
    if (key != NULL && PyObject_Hash(key) != -1) { /* (A str's hash cannot fail.) */
        Py_XSETREF(*slot, Py_NewRef(key));
    }
    return key;
}

/* Decode one key or value: "+" and "%XX" into `scratch` when `escaped`, then UTF-8;
 * a key through the table of keys (``state``, NULL for a value). */
static PyObject *
decode_component(module_state *state, const char *raw, Py_ssize_t size, char *scratch,
                 int escaped)
{
    if (!escaped) {
        return state != NULL ? key_of(state, raw, size) : text_of(raw, size);
    }
    Py_ssize_t out = 0;
    for (Py_ssize_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '+') {
            scratch[out++] = ' ';
            continue;
        }
        if (c == '%' && size - i > 2) {
            int high = hex_value((unsigned char)raw[i + 1]);
            int low = hex_value((unsigned char)raw[i + 2]);
            if (high >= 0 && low >= 0) {
                scratch[out++] = (char)(high * 16 + low);
                i += 2;
                continue;
            }
        }
        scratch[out++] = (char)c;
    }
    return state != NULL ? key_of(state, scratch, out) : text_of(scratch, out);
}

/* Add `value` under `key`: to `result` for a new key, else to the key's list in `*lists`. */
static int
add_field(PyObject *result, PyObject **lists, PyObject *key, PyObject *value)
{
    PyObject *first = PyDict_GetItemWithError(result, key); /* borrowed */
    if (first == NULL) {
        if (PyErr_Occurred()) {
            return -1;
        }
        return PyDict_SetItem(result, key, value);
    }
    if (*lists == NULL) {
        *lists = PyDict_New();
        if (*lists == NULL) {
            return -1;
        }
    }
    PyObject *values = PyDict_GetItemWithError(*lists, key); /* borrowed */
    if (values != NULL) {
        return PyList_Append(values, value);
    }
    if (PyErr_Occurred()) {
        return -1;
    }
    values = PyList_New(2);
    if (values == NULL) {
        return -1;
    }
    Py_INCREF(first);
    PyList_SET_ITEM(values, 0, first);
    Py_INCREF(value);
    PyList_SET_ITEM(values, 1, value);
    int failed = PyDict_SetItem(*lists, key, values);
    Py_DECREF(values);
    return failed;
}

PyDoc_STRVAR(fill_multidict_doc,
"fill_multidict(result, data, max_fields, /)\n--\n\n"
"Put each key's first value of the urlencoded ``data`` into the dict ``result``\n"
"and return the value lists of the keys that repeat (None when none does).\n"
"A non-empty field at index ``max_fields`` or past it (-1: no limit) raises\n"
"ValueError; input that is not UTF-8 raises UnicodeDecodeError.");

/* The parse itself: ``fill_multidict``'s answer for bytes ``data`` (NULL: an error). */
static PyObject *
fill(module_state *state, PyObject *result, PyObject *data, Py_ssize_t max_fields)
{
    const char *buffer = PyBytes_AS_STRING(data);
    Py_ssize_t size = PyBytes_GET_SIZE(data);
    int escaped = memchr(buffer, '+', (size_t)size) != NULL
                  || memchr(buffer, '%', (size_t)size) != NULL;
    char *scratch = NULL;
    if (escaped) {
        scratch = PyMem_Malloc((size_t)size);
        if (scratch == NULL) {
            return PyErr_NoMemory();
        }
    }
    PyObject *lists = NULL;
    Py_ssize_t index = 0;
    Py_ssize_t start = 0;
    while (start <= size) {
        const char *found = memchr(buffer + start, '&', (size_t)(size - start));
        Py_ssize_t stop = found == NULL ? size : found - buffer;
        if (stop > start) {
            if (max_fields >= 0 && index >= max_fields) {
                PyErr_SetString(PyExc_ValueError, "too many fields");
                goto error;
            }
            const char *equals = memchr(buffer + start, '=', (size_t)(stop - start));
            Py_ssize_t key_stop = equals == NULL ? stop : equals - buffer;
            Py_ssize_t value_start = equals == NULL ? stop : key_stop + 1;
            PyObject *key =
                decode_component(state, buffer + start, key_stop - start, scratch, escaped);
            if (key == NULL) {
                goto error;
            }
            PyObject *value = decode_component(
                NULL, buffer + value_start, stop - value_start, scratch, escaped);
            if (value == NULL) {
                Py_DECREF(key);
                goto error;
            }
            int failed = add_field(result, &lists, key, value);
            Py_DECREF(key);
            Py_DECREF(value);
            if (failed) {
                goto error;
            }
        }
        index++;
        start = stop + 1;
    }
    PyMem_Free(scratch);
    if (lists == NULL) {
        Py_RETURN_NONE;
    }
    return lists;

error:
    PyMem_Free(scratch);
    Py_XDECREF(lists);
    return NULL;
}

static PyObject *
fill_multidict(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "fill_multidict() takes exactly 3 arguments");
        return NULL;
    }
    PyObject *result = args[0];
    PyObject *data = args[1];
    if (!PyDict_Check(result)) {
        PyErr_SetString(PyExc_TypeError, "fill_multidict() needs a dict to fill");
        return NULL;
    }
    if (!PyBytes_Check(data)) {
        PyErr_SetString(PyExc_TypeError, "fill_multidict() parses bytes");
        return NULL;
    }
    Py_ssize_t max_fields = PyLong_AsSsize_t(args[2]);
    if (max_fields == -1 && PyErr_Occurred()) {
        return NULL;
    }
    return fill(PyModule_GetState(module), result, data, max_fields);
}

/* -- QueryArgs: ``Request.args`` ------------------------------------------------ */

/* The optional twin of kettle.http._request_params.Args (its docstring says what
 * ``request.args`` is). On a request whose ``parameter_storage_class`` is
 * ``multidict`` (ImmutableMultiDict), whose class keeps object's __setattr__ and
 * whose ``query_string`` is bytes, the first read parses here, as
 * ``query_multidict`` does, and stores the result on the request under
 * ``name``; any other request, and a query string that is not UTF-8, is the
 * Python descriptor's (``fallback``: its ``__get__``), which gives the same answer;
 * read on the class, ``Request.args`` is that descriptor. */
typedef struct {
    PyObject_HEAD
    PyObject *fallback;  /* the Python Args' __get__ */
    PyObject *multidict; /* ImmutableMultiDict */
    PyObject *name;      /* "args" */
    PyObject *module;    /* this module (its table of keys) */
} QueryArgs;

static PyObject *storage_name;  /* "parameter_storage_class" */
static PyObject *query_name;    /* "query_string" */
static PyObject *lists_name;    /* "_lists" */
static PyObject *empty_tuple;

static PyObject *
query_args_get(PyObject *descriptor, PyObject *request, PyObject *owner)
{
    QueryArgs *self = (QueryArgs *)descriptor;
    PyObject *result = NULL;
    if (request == NULL || request == Py_None) {
        goto fallback; /* Read on the class: the Python descriptor, as documented. */
    }
    PyObject *storage = PyObject_GetAttr(request, storage_name);
    if (storage == NULL) {
        return NULL;
    }
    Py_DECREF(storage); /* (Only compared: the class holds it.) */
    if (storage != self->multidict || Py_TYPE(request)->tp_setattro != PyObject_GenericSetAttr) {
        goto fallback;
    }
    PyObject *query = PyObject_GetAttr(request, query_name);
    if (query == NULL) {
        return NULL;
    }
    if (!PyBytes_CheckExact(query)) {
        Py_DECREF(query);
        goto fallback;
    }
    result = PyDict_Type.tp_new((PyTypeObject *)self->multidict, empty_tuple, NULL);
    if (result == NULL) {
        Py_DECREF(query);
        return NULL;
    }
    PyObject *lists = fill(PyModule_GetState(self->module), result, query, -1);
    Py_DECREF(query);
    if (lists == NULL) {
        Py_CLEAR(result);
        if (PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
            PyErr_Clear(); /* Not UTF-8: the Python parse keeps such bytes as %XX. */
            goto fallback;
        }
        return NULL;
    }
    int failed = lists != Py_None && PyObject_SetAttr(result, lists_name, lists) < 0;
    Py_DECREF(lists);
    if (failed || PyObject_GenericSetAttr(request, self->name, result) < 0) {
        Py_DECREF(result);
        return NULL;
    }
    return result;

fallback:
    return PyObject_CallFunctionObjArgs(self->fallback, request ? request : Py_None,
                                        owner ? owner : Py_None, NULL);
}

static PyObject *
query_args_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"fallback", "multidict", "name", NULL};
    PyObject *fallback, *multidict, *name;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO!U:QueryArgs", keywords, &fallback,
                                     &PyType_Type, &multidict, &name)) {
        return NULL;
    }
    if (!PyType_IsSubtype((PyTypeObject *)multidict, &PyDict_Type)) {
        PyErr_SetString(PyExc_TypeError, "QueryArgs: multidict must be a dict subclass");
        return NULL;
    }
    PyObject *module = PyImport_ImportModule("kettle.http._urlencoded"); /* (Its table.) */
    if (module == NULL) {
        return NULL;
    }
    QueryArgs *self = (QueryArgs *)type->tp_alloc(type, 0);
    if (self == NULL) {
        Py_DECREF(module);
        return NULL;
    }
    self->fallback = Py_NewRef(fallback);
    self->multidict = Py_NewRef(multidict);
    self->name = Py_NewRef(name);
    self->module = module;
    return (PyObject *)self;
}

static int
query_args_traverse(QueryArgs *self, visitproc visit, void *arg)
{
    Py_VISIT(self->fallback);
    Py_VISIT(self->multidict);
    Py_VISIT(self->name);
    Py_VISIT(self->module);
    return 0;
}

static int
query_args_clear(QueryArgs *self)
{
    Py_CLEAR(self->fallback);
    Py_CLEAR(self->multidict);
    Py_CLEAR(self->name);
    Py_CLEAR(self->module);
    return 0;
}

PyDoc_STRVAR(query_args_doc,
"QueryArgs(fallback, multidict, name)\n--\n\n"
"``Request.args``: the parsed query string (never raises on bad encoding),\n"
"computed on first read and stored on the request.");

static PyTypeObject QueryArgsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "kettle.http._urlencoded.QueryArgs",
    .tp_basicsize = sizeof(QueryArgs),
    .tp_dealloc = kettle_gc_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = query_args_doc,
    .tp_traverse = (traverseproc)query_args_traverse,
    .tp_clear = (inquiry)query_args_clear,
    .tp_descr_get = query_args_get,
    .tp_new = query_args_new,
};

/* -- class_version: what a class looks like, as a number ---------------------------- */

static PyObject *init_name; /* "__init__": any name, to have a version tag assigned */

PyDoc_STRVAR(class_version_doc,
"class_version(cls, /)\n--\n\n"
"CPython's version tag of ``cls``: a number that changes whenever an attribute of\n"
"``cls`` or of a class it derives from is set or deleted (never reused), so an\n"
"answer read from the class's attributes holds while it is the same. 0 when there\n"
"is none (the interpreter ran out of them): then nothing may be kept.");

static PyObject *
class_version(PyObject *module, PyObject *cls)
{
    (void)module;
    if (!PyType_Check(cls)) {
        PyErr_SetString(PyExc_TypeError, "class_version() takes a class");
        return NULL;
    }
    PyTypeObject *type = (PyTypeObject *)cls;
#ifdef Py_TPFLAGS_VALID_VERSION_TAG
    if (!(type->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG)) {
        (void)_PyType_Lookup(type, init_name); /* (Assigns a tag when one is left.) */
    }
    if (type->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG) {
        return PyLong_FromUnsignedLong(type->tp_version_tag);
    }
#endif
    return PyLong_FromLong(0);
}

static PyMethodDef methods[] = {
    {"class_version", class_version, METH_O, class_version_doc},
    {"fill_multidict", (PyCFunction)(void (*)(void))fill_multidict, METH_FASTCALL,
     fill_multidict_doc},
    {NULL, NULL, 0, NULL},
};

static int
module_exec(PyObject *module)
{
    if (storage_name == NULL) {
        storage_name = PyUnicode_InternFromString("parameter_storage_class");
        query_name = PyUnicode_InternFromString("query_string");
        lists_name = PyUnicode_InternFromString("_lists");
        empty_tuple = PyTuple_New(0);
        init_name = PyUnicode_InternFromString("__init__");
        if (init_name == NULL || storage_name == NULL || query_name == NULL || lists_name == NULL ||
            empty_tuple == NULL) {
            return -1;
        }
    }
    return kettle_add_type(module, &QueryArgsType, "QueryArgs");
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static int
module_traverse(PyObject *module, visitproc visit, void *arg)
{
    module_state *state = PyModule_GetState(module);
    for (int i = 0; state != NULL && i < KEY_SLOTS; i++) {
        Py_VISIT(state->keys[i]);
    }
    return 0;
}

static int
module_clear(PyObject *module)
{
    module_state *state = PyModule_GetState(module);
    for (int i = 0; state != NULL && i < KEY_SLOTS; i++) {
        Py_CLEAR(state->keys[i]);
    }
    return 0;
}

static void
module_free(void *module)
{
    module_clear((PyObject *)module);
}

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "kettle.http._urlencoded",
    .m_doc = "The urlencoded parse of kettle.http.urls.query_multidict, in C (optional).",
    .m_size = sizeof(module_state),
    .m_methods = methods,
    .m_slots = slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC
PyInit__urlencoded(void)
{
    return PyModuleDef_Init(&module_def);
}
