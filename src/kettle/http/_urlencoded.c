/* Split a query string or urlencoded body into an ImmutableMultiDict's layout, in C.
 *
 * The optional accelerator of kettle.http.urls.query_multidict (its docstring
 * says what the layout is). One pass over the input: "&" separates fields
 * (";" does not), the first "=" separates a key from its value, "+" is a space,
 * "%XX" is a byte (a bad escape such as "%zz" or a trailing "%4" stays as it
 * is), and each key and value is then strict UTF-8. Input that is not UTF-8
 * raises UnicodeDecodeError: the caller then takes the pure-Python path, which
 * keeps such bytes as %XX escapes. Time and memory are linear in the input: one
 * scratch buffer of its size at most, one str per key and value.
 *
 * Semantics are exactly the pure-Python path's (_pure_multidict;
 * tests/core/test_core_urlencoded_accelerator.py compares the two on generated input).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
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

/* Decode one key or value: "+" and "%XX" into `scratch` when `escaped`, then UTF-8. */
static PyObject *
decode_component(const char *raw, Py_ssize_t size, char *scratch, int escaped)
{
    if (!escaped) {
        return text_of(raw, size);
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
    return text_of(scratch, out);
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

static PyObject *
fill_multidict(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
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
            PyObject *key = decode_component(buffer + start, key_stop - start, scratch, escaped);
            if (key == NULL) {
                goto error;
            }
            PyObject *value = decode_component(
                buffer + value_start, stop - value_start, scratch, escaped);
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

static PyMethodDef methods[] = {
    {"fill_multidict", (PyCFunction)(void (*)(void))fill_multidict, METH_FASTCALL,
     fill_multidict_doc},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "kettle.http._urlencoded",
    .m_doc = "The urlencoded parse of kettle.http.urls.query_multidict, in C (optional).",
    .m_size = 0,
    .m_methods = methods,
    .m_slots = slots,
};

PyMODINIT_FUNC
PyInit__urlencoded(void)
{
    return PyModuleDef_Init(&module_def);
}
