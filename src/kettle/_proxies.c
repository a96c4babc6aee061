/* The attribute reads of Kettle's proxies (request, g, current_app...), in C.
 *
 * The optional accelerator of kettle.globals._forward_attributes (its
 * docstring says what a proxy's __getattribute__ does). A Forwarder is that
 * __getattribute__: put in a proxy's class, Python calls it with the
 * attribute's name (a type's __getattribute__ hook calls an object without
 * __get__ unbound); called as ``type(proxy).__getattribute__(proxy, name)``
 * it ignores the proxy. For a name the proxy's class has, it calls ``own``.
 * Any other name is read on the current object: for the request proxy
 * (``var`` given) the current context's ``request``, read from the context
 * variable here, else what ``get`` returns (``get`` also raises the error
 * when there is no request).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "_accelerator.h"
#include <stddef.h>

typedef struct {
    PyObject_HEAD
    PyObject *names;   /* frozenset: the names the proxy's class has */
    PyObject *own;     /* own(name): such a name's value */
    PyObject *get;     /* get(): the current object (raises without one) */
    PyObject *var;     /* the ContextVar of the current context, or NULL */
    vectorcallfunc vectorcall;
} Forwarder;

static PyObject *request_name; /* "request", interned */

/* The current request: the context variable's context's ``request``, else get(). */
static PyObject *
current_request(Forwarder *self)
{
    PyObject *context = NULL;
    if (PyContextVar_Get(self->var, NULL, &context) < 0) {
        return NULL;
    }
    if (context != NULL) {
        PyObject *request = PyObject_GetAttr(context, request_name);
        Py_DECREF(context);
        if (request != NULL && request != Py_None) {
            return request;
        }
        if (request == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
                return NULL;
            }
            PyErr_Clear();
        }
        Py_XDECREF(request);
    }
    return PyObject_CallNoArgs(self->get); /* Raises: no request. */
}

static PyObject *
forwarder_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf,
                     PyObject *kwnames)
{
    Forwarder *self = (Forwarder *)callable;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if ((nargs != 1 && nargs != 2) || (kwnames != NULL && PyTuple_GET_SIZE(kwnames))) {
        PyErr_SetString(PyExc_TypeError, "__getattribute__ takes (name) or (proxy, name)");
        return NULL;
    }
    PyObject *name = args[nargs - 1];
    if (!PyUnicode_Check(name)) {
        PyErr_Format(PyExc_TypeError, "attribute name must be string, not '%.200s'",
                     Py_TYPE(name)->tp_name);
        return NULL;
    }
    int own = PySet_Contains(self->names, name);
    if (own < 0) {
        return NULL;
    }
    if (own) {
        return PyObject_CallOneArg(self->own, name);
    }
    PyObject *current =
        self->var != NULL ? current_request(self) : PyObject_CallNoArgs(self->get);
    if (current == NULL) {
        return NULL;
    }
    PyObject *value = PyObject_GetAttr(current, name);
    Py_DECREF(current);
    return value;
}

static PyObject *
forwarder_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"names", "own", "get", "var", NULL};
    PyObject *names, *own, *get, *var = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!OO|O:Forwarder", keywords,
                                     &PyFrozenSet_Type, &names, &own, &get, &var)) {
        return NULL;
    }
    if (var != Py_None && !PyContextVar_CheckExact(var)) {
        PyErr_SetString(PyExc_TypeError, "Forwarder: var must be a ContextVar or None");
        return NULL;
    }
    Forwarder *self = (Forwarder *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->names = Py_NewRef(names);
    self->own = Py_NewRef(own);
    self->get = Py_NewRef(get);
    self->var = var == Py_None ? NULL : Py_NewRef(var);
    self->vectorcall = forwarder_vectorcall;
    return (PyObject *)self;
}

static int
forwarder_traverse(Forwarder *self, visitproc visit, void *arg)
{
    Py_VISIT(self->names);
    Py_VISIT(self->own);
    Py_VISIT(self->get);
    Py_VISIT(self->var);
    return 0;
}

static int
forwarder_clear(Forwarder *self)
{
    Py_CLEAR(self->names);
    Py_CLEAR(self->own);
    Py_CLEAR(self->get);
    Py_CLEAR(self->var);
    return 0;
}

PyDoc_STRVAR(forwarder_doc,
"Forwarder(names, own, get, var=None)\n--\n\n"
"A proxy class's ``__getattribute__``: ``own(name)`` for the ``names`` the\n"
"class has, else the attribute of the current object (``var``'s context's\n"
"``request`` when ``var`` is given, else ``get()``).");

static PyTypeObject ForwarderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "kettle._proxies.Forwarder",
    .tp_basicsize = sizeof(Forwarder),
    .tp_dealloc = kettle_gc_dealloc,
    .tp_vectorcall_offset = offsetof(Forwarder, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = forwarder_doc,
    .tp_traverse = (traverseproc)forwarder_traverse,
    .tp_clear = (inquiry)forwarder_clear,
    .tp_new = forwarder_new,
};

static int
module_exec(PyObject *module)
{
    if (request_name == NULL) {
        request_name = PyUnicode_InternFromString("request");
        if (request_name == NULL) {
            return -1;
        }
    }
    return kettle_add_type(module, &ForwarderType, "Forwarder");
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "kettle._proxies",
    .m_doc = "The attribute reads of kettle.globals' proxies, in C (optional).",
    .m_size = 0,
    .m_slots = slots,
};

PyMODINIT_FUNC
PyInit__proxies(void)
{
    return PyModuleDef_Init(&module_def);
}
