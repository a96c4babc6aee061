/* ImmutableMultiDict's ``get`` and ``getlist``, in C (optional).
 *
 * The accelerator of the two reads a view makes most on ``request.args`` and
 * ``request.form`` (kettle/http/datastructures.py, ``ImmutableMultiDict``;
 * its docstring says what the layout is: the dict holds each key's first
 * value, ``_lists`` the value lists of the keys that repeat). A Method is
 * put in the class in place of the Python function, which it keeps
 * (``python``): it answers the common call itself, and passes any other,
 * unchanged, to that function, which gives the same answer:
 *
 * - ``d.get(key)`` and ``d.get(key, default)`` on a class that keeps dict's
 *   ``__getitem__``: the dict's value, else the default (a ``type`` is the
 *   function's);
 * - ``d.getlist(key)``: a copy of the key's list in ``_lists``, else a list of
 *   its one value, or an empty list (a ``type`` is the function's).
 *
 * A Method binds as a function does (the class's flag Py_TPFLAGS_METHOD_DESCRIPTOR
 * lets ``d.get(key)`` call it with ``d`` first, no bound method made), and
 * shows the function's name, docstring and signature (``__wrapped__``).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "_accelerator.h"
#include <stddef.h>
#include "structmember.h"

enum { GET = 0, GETLIST = 1 };

typedef struct {
    PyObject_HEAD
    PyObject *python; /* the Python function: the twin, and every other call */
    int kind;         /* GET or GETLIST */
    vectorcallfunc vectorcall;
} Method;

static PyObject *getitem_name; /* "__getitem__" */
static PyObject *lists_name;   /* "_lists" */
static PyObject *dict_getitem; /* dict.__getitem__ */

static PyObject *
call_python(Method *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    return PyObject_Vectorcall(self->python, args, nargsf, kwnames);
}

/* d.get(key[, default]); NULL with no error set: the function's call. */
static PyObject *
get(PyObject *dict, PyObject *const *args, Py_ssize_t nargs)
{
    if (_PyType_Lookup(Py_TYPE(dict), getitem_name) != dict_getitem) {
        return NULL; /* A __getitem__ of its own: ``get`` reads through it. */
    }
    PyObject *value = PyDict_GetItemWithError(dict, args[1]); /* borrowed */
    if (value != NULL) {
        return Py_NewRef(value);
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    return Py_NewRef(nargs == 3 ? args[2] : Py_None);
}

/* d.getlist(key); NULL with no error set: the function's call. */
static PyObject *
getlist(PyObject *dict, PyObject *key)
{
    PyObject *lists = PyObject_GetAttr(dict, lists_name);
    if (lists == NULL) {
        return NULL;
    }
    if (lists != Py_None) {
        if (!PyDict_CheckExact(lists)) {
            Py_DECREF(lists);
            return NULL;
        }
        PyObject *values = PyDict_GetItemWithError(lists, key); /* borrowed */
        if (values != NULL) {
            PyObject *copy = PyList_CheckExact(values)
                                 ? PyList_GetSlice(values, 0, PyList_GET_SIZE(values))
                                 : NULL;
            Py_DECREF(lists);
            return copy;
        }
        Py_DECREF(lists);
        if (PyErr_Occurred()) {
            return NULL;
        }
    }
    else {
        Py_DECREF(lists);
    }
    PyObject *value = PyDict_GetItemWithError(dict, key); /* borrowed */
    if (value == NULL) {
        return PyErr_Occurred() ? NULL : PyList_New(0);
    }
    PyObject *values = PyList_New(1);
    if (values != NULL) {
        PyList_SET_ITEM(values, 0, Py_NewRef(value));
    }
    return values;
}

static PyObject *
method_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Method *self = (Method *)callable;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if ((kwnames != NULL && PyTuple_GET_SIZE(kwnames)) || nargs < 2 ||
        !PyDict_Check(args[0]) || nargs > (self->kind == GET ? 3 : 2)) {
        return call_python(self, args, nargsf, kwnames);
    }
    PyObject *result = self->kind == GET ? get(args[0], args, nargs) : getlist(args[0], args[1]);
    if (result == NULL && !PyErr_Occurred()) {
        return call_python(self, args, nargsf, kwnames);
    }
    return result;
}

static PyObject *
method_descr_get(PyObject *self, PyObject *instance, PyObject *owner)
{
    (void)owner;
    if (instance == NULL || instance == Py_None) {
        return Py_NewRef(self);
    }
    return PyMethod_New(self, instance);
}

static PyObject *
method_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"python", "kind", NULL};
    PyObject *python;
    const char *kind;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "Os:Method", keywords, &python, &kind)) {
        return NULL;
    }
    int which = strcmp(kind, "get") == 0 ? GET : strcmp(kind, "getlist") == 0 ? GETLIST : -1;
    if (which < 0 || !PyCallable_Check(python)) {
        PyErr_SetString(PyExc_ValueError, "Method(python, kind): a function, 'get' or 'getlist'");
        return NULL;
    }
    Method *self = (Method *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->python = Py_NewRef(python);
    self->kind = which;
    self->vectorcall = method_vectorcall;
    return (PyObject *)self;
}

/* ``__name__``, ``__qualname__``, ``__doc__``, ``__module__``: the function's. */
static PyObject *
method_getattro(PyObject *self, PyObject *name)
{
    if (PyUnicode_Check(name) &&
        (PyUnicode_CompareWithASCIIString(name, "__name__") == 0 ||
         PyUnicode_CompareWithASCIIString(name, "__qualname__") == 0 ||
         PyUnicode_CompareWithASCIIString(name, "__doc__") == 0 ||
         PyUnicode_CompareWithASCIIString(name, "__module__") == 0)) {
        return PyObject_GetAttr(((Method *)self)->python, name);
    }
    return PyObject_GenericGetAttr(self, name);
}

static PyObject *
method_repr(Method *self)
{
    return PyUnicode_FromFormat("<C accelerated %R>", self->python);
}

static int
method_traverse(Method *self, visitproc visit, void *arg)
{
    Py_VISIT(self->python);
    return 0;
}

static int
method_clear(Method *self)
{
    Py_CLEAR(self->python);
    return 0;
}

static PyMemberDef method_members[] = {
    {"__wrapped__", T_OBJECT, offsetof(Method, python), READONLY,
     "The Python function: every call this one does not answer."},
    {NULL, 0, 0, 0, NULL},
};

PyDoc_STRVAR(method_doc,
"Method(python, kind)\n--\n\n"
"ImmutableMultiDict's ``get`` or ``getlist`` (``kind``): the common call\n"
"answered in C, any other by ``python``, the function it stands for.");

static PyTypeObject MethodType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "kettle.http._multidict.Method",
    .tp_basicsize = sizeof(Method),
    .tp_dealloc = kettle_gc_dealloc,
    .tp_vectorcall_offset = offsetof(Method, vectorcall),
    .tp_repr = (reprfunc)method_repr,
    .tp_call = PyVectorcall_Call,
    .tp_getattro = method_getattro,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL |
                Py_TPFLAGS_METHOD_DESCRIPTOR,
    .tp_doc = method_doc,
    .tp_traverse = (traverseproc)method_traverse,
    .tp_clear = (inquiry)method_clear,
    .tp_members = method_members,
    .tp_descr_get = method_descr_get,
    .tp_new = method_new,
};

static int
module_exec(PyObject *module)
{
    if (getitem_name == NULL) {
        getitem_name = PyUnicode_InternFromString("__getitem__");
        lists_name = PyUnicode_InternFromString("_lists");
        if (getitem_name == NULL || lists_name == NULL) {
            return -1;
        }
        dict_getitem = _PyType_Lookup(&PyDict_Type, getitem_name); /* borrowed: dict's own */
        if (dict_getitem == NULL) {
            PyErr_SetString(PyExc_RuntimeError, "dict has no __getitem__");
            return -1;
        }
        Py_INCREF(dict_getitem);
    }
    return kettle_add_type(module, &MethodType, "Method");
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "kettle.http._multidict",
    .m_doc = "ImmutableMultiDict's get and getlist, in C (optional).",
    .m_size = 0,
    .m_slots = slots,
};

PyMODINIT_FUNC
PyInit__multidict(void)
{
    return PyModuleDef_Init(&module_def);
}
