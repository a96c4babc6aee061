/* The common shape of a dynamic path, resolved in C (optional).
 *
 * The accelerator of ``StateMachine.resolve`` (kettle/routing/matcher.py)
 * for the one call that matters per request: ``Map.plain_resolve(path,
 * method)``, the app's common request (no host, no subdomain, HTTP). A
 * Resolver does what that method does first for such a call (a static first
 * segment, then the shapes: ``shapes.py``) and hands every other case,
 * unchanged, to the method itself (``fallback``), which gives the same answer
 * from the start. So this code has no walk, no redirect and no error to get
 * right: only the hit, and a miss the walk would confirm.
 *
 * ``table`` maps a first segment to the shapes from its state, as entries
 * ``(program, methods, rule, arity, decode1, decode2, name1, name2)``
 * (``shapes.shape_entries``, filled by the method the first time it meets the
 * segment). A shape's regex takes, after the first segment, one segment per
 * step of its program, each after a slash: a static step's text exactly, any
 * non-empty segment (ANY: ``[^/]++``) or one of ASCII digits (DIGITS:
 * ``[0-9]++``), and the end of the path after the last. The program is
 * compared here instead. A hit is the first entry whose program takes the
 * path: with its rule taking the method and one or two values (``arity``),
 * the answer is ``(rule, {name1: value1, name2: value2})``, each value
 * through its decoder unless that is None. A decoder's ValueError, another
 * arity or a method the rule refuses goes to ``fallback``. When no entry
 * takes the path, ``walk_fails`` is answered here (``nothing``, the
 * NOTHING_MATCHED object) and any other miss goes to ``fallback``.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "_accelerator.h"
#include <stddef.h>

typedef struct {
    PyObject_HEAD
    PyObject *table;    /* dict: first segment -> tuple of entries */
    PyObject *fallback; /* the Python resolve, called with the same arguments */
    PyObject *nothing;  /* what resolve returns when the walk would fail too */
    int top_edges;      /* the top state has dynamic edges: walk_fails is False */
    vectorcallfunc vectorcall;
} Resolver;

enum { E_PROGRAM, E_METHODS, E_RULE, E_ARITY, E_DECODE1, E_DECODE2, E_NAME1, E_NAME2, E_SIZE };
enum { ANY_STEP = 0, DIGITS_STEP = 1 };
enum { MAX_VALUES = 2 };

static PyObject *slash;       /* "/" */
static PyObject *double_slash; /* "//" */

static PyObject *
call_fallback(Resolver *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    return PyObject_Vectorcall(self->fallback, args, nargsf, kwnames);
}

/* ``value`` through ``decode`` (None: the value itself). NULL with an error set. */
static PyObject *
decoded(PyObject *decode, PyObject *value)
{
    if (decode == Py_None) {
        return Py_NewRef(value);
    }
    return PyObject_CallOneArg(decode, value);
}

/* 1: the walk fails too (``shapes.walk_fails``); 0: it may not; -1: error. */
static int
walk_fails(Resolver *self, PyObject *path, Py_ssize_t length, PyObject *entries)
{
    if (self->top_edges || length == 0 || PyUnicode_READ_CHAR(path, 0) != '/' ||
        PyUnicode_READ_CHAR(path, length - 1) == '/') {
        return 0;
    }
    Py_ssize_t doubled = PyUnicode_Find(path, double_slash, 0, length, 1);
    if (doubled == -2) {
        return -1;
    }
    if (doubled >= 0) {
        return 0;
    }
    Py_ssize_t slashes = PyUnicode_Count(path, slash, 0, length);
    if (slashes < 0) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(entries); i++) {
        PyObject *program = PyTuple_GET_ITEM(PyTuple_GET_ITEM(entries, i), E_PROGRAM);
        if (PyTuple_GET_SIZE(program) == slashes - 1) {
            return 1;
        }
    }
    return 0;
}

/* Does ``program`` take ``path`` from ``pos`` (the end of its first segment) to its end?
 * 1 and the values' bounds in ``bounds`` (start, end per value), 0, or -1 (an
 * entry of another form: the fallback's). */
static int
takes(PyObject *program, PyObject *path, Py_ssize_t pos, Py_ssize_t length,
      Py_ssize_t bounds[2 * MAX_VALUES])
{
    int kind = PyUnicode_KIND(path);
    const void *data = PyUnicode_DATA(path);
    int captured = 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(program); i++) {
        if (pos >= length || PyUnicode_READ(kind, data, pos) != '/') {
            return 0;
        }
        Py_ssize_t start = ++pos;
        while (pos < length && PyUnicode_READ(kind, data, pos) != '/') {
            pos++;
        }
        PyObject *step = PyTuple_GET_ITEM(program, i);
        if (PyUnicode_CheckExact(step)) {
            if (PyUnicode_GET_LENGTH(step) != pos - start ||
                PyUnicode_Tailmatch(path, step, start, pos, -1) != 1) {
                return 0; /* (Tailmatch's -1 can only mean a bad argument: not these.) */
            }
            continue;
        }
        long step_kind = PyLong_Check(step) ? PyLong_AsLong(step) : -1;
        if ((step_kind != ANY_STEP && step_kind != DIGITS_STEP) || captured == MAX_VALUES) {
            PyErr_Clear();
            return -1;
        }
        if (pos == start) {
            return 0; /* Every value is one character or more. */
        }
        if (step_kind == DIGITS_STEP) {
            for (Py_ssize_t j = start; j < pos; j++) {
                Py_UCS4 c = PyUnicode_READ(kind, data, j);
                if (c < '0' || c > '9') {
                    return 0;
                }
            }
        }
        bounds[2 * captured] = start;
        bounds[2 * captured + 1] = pos;
        captured++;
    }
    return pos == length;
}

/* The answer for an entry whose program took the path; NULL with no error: the fallback's. */
static PyObject *
answer(PyObject *entry, PyObject *path, const Py_ssize_t bounds[2 * MAX_VALUES],
       PyObject *method, int *failed)
{
    PyObject *methods = PyTuple_GET_ITEM(entry, E_METHODS);
    if (methods != Py_None) {
        int accepted = PyAnySet_Check(methods) ? PySet_Contains(methods, method) : 0;
        if (accepted <= 0) {
            *failed = accepted < 0;
            return NULL;
        }
    }
    PyObject *arity_object = PyTuple_GET_ITEM(entry, E_ARITY);
    long arity = PyLong_Check(arity_object) ? PyLong_AsLong(arity_object) : 0;
    if (arity != 1 && arity != 2) {
        PyErr_Clear();
        return NULL;
    }
    PyObject *values[MAX_VALUES] = {NULL, NULL};
    PyObject *result = NULL;
    for (long i = 0; i < arity; i++) {
        PyObject *text = PyUnicode_Substring(path, bounds[2 * i], bounds[2 * i + 1]);
        if (text == NULL) {
            *failed = 1;
            goto done;
        }
        values[i] = decoded(PyTuple_GET_ITEM(entry, E_DECODE1 + i), text);
        Py_DECREF(text);
        if (values[i] == NULL) {
            /* A value the converter refuses: ``refused`` (in the fallback) words the miss. */
            if (PyErr_ExceptionMatches(PyExc_ValueError)) {
                PyErr_Clear();
            }
            else {
                *failed = 1;
            }
            goto done;
        }
    }
    PyObject *arguments = PyDict_New();
    if (arguments == NULL) {
        *failed = 1;
        goto done;
    }
    for (long i = 0; i < arity; i++) {
        if (PyDict_SetItem(arguments, PyTuple_GET_ITEM(entry, E_NAME1 + i), values[i]) < 0) {
            Py_DECREF(arguments);
            *failed = 1;
            goto done;
        }
    }
    result = PyTuple_Pack(2, PyTuple_GET_ITEM(entry, E_RULE), arguments);
    Py_DECREF(arguments);
    if (result == NULL) {
        *failed = 1;
    }
done:
    Py_XDECREF(values[0]);
    Py_XDECREF(values[1]);
    return result;
}

static PyObject *
resolver_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf,
                    PyObject *kwnames)
{
    Resolver *self = (Resolver *)callable;
    if (PyVectorcall_NARGS(nargsf) != 2 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames)) ||
        !PyUnicode_CheckExact(args[0]) || !PyUnicode_CheckExact(args[1])) {
        return call_fallback(self, args, nargsf, kwnames);
    }
    PyObject *path = args[0], *method = args[1];
    Py_ssize_t length = PyUnicode_GET_LENGTH(path);
    /* The first segment, ``path.split("/", 2)[1]`` in the method: every shape's regex
     * starts with a slash, so a path that does not is the fallback's (its walk). */
    if (length == 0 || PyUnicode_READ_CHAR(path, 0) != '/') {
        return call_fallback(self, args, nargsf, kwnames);
    }
    Py_ssize_t end = PyUnicode_FindChar(path, '/', 1, length, 1);
    if (end == -2) {
        return NULL;
    }
    if (end == -1) {
        end = length;
    }
    PyObject *segment = PyUnicode_Substring(path, 1, end);
    if (segment == NULL) {
        return NULL;
    }
    PyObject *entries = PyDict_GetItemWithError(self->table, segment); /* borrowed */
    Py_DECREF(segment);
    if (entries == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        return call_fallback(self, args, nargsf, kwnames);
    }
    if (!PyTuple_CheckExact(entries)) {
        return call_fallback(self, args, nargsf, kwnames);
    }
    Py_ssize_t count = PyTuple_GET_SIZE(entries);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *entry = PyTuple_GET_ITEM(entries, i);
        if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != E_SIZE ||
            !PyTuple_CheckExact(PyTuple_GET_ITEM(entry, E_PROGRAM))) {
            return call_fallback(self, args, nargsf, kwnames);
        }
    }
    Py_INCREF(entries); /* A thread may replace the table's entry meanwhile. */
    Py_ssize_t bounds[2 * MAX_VALUES];
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *entry = PyTuple_GET_ITEM(entries, i);
        int took = takes(PyTuple_GET_ITEM(entry, E_PROGRAM), path, end, length, bounds);
        if (took == 0) {
            continue;
        }
        int failed = 0;
        PyObject *result = took < 0 ? NULL : answer(entry, path, bounds, method, &failed);
        Py_DECREF(entries);
        if (result == NULL && !failed) {
            return call_fallback(self, args, nargsf, kwnames);
        }
        return result;
    }
    int fails = walk_fails(self, path, length, entries);
    Py_DECREF(entries);
    if (fails < 0) {
        return NULL;
    }
    if (fails) {
        return Py_NewRef(self->nothing);
    }
    return call_fallback(self, args, nargsf, kwnames);
}

static PyObject *
resolver_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"table", "fallback", "nothing", "top_edges", NULL};
    PyObject *table, *fallback, *nothing;
    int top_edges;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!OOp:Resolver", keywords, &PyDict_Type,
                                     &table, &fallback, &nothing, &top_edges)) {
        return NULL;
    }
    Resolver *self = (Resolver *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->table = Py_NewRef(table);
    self->fallback = Py_NewRef(fallback);
    self->nothing = Py_NewRef(nothing);
    self->top_edges = top_edges;
    self->vectorcall = resolver_vectorcall;
    return (PyObject *)self;
}

static int
resolver_traverse(Resolver *self, visitproc visit, void *arg)
{
    Py_VISIT(self->table);
    Py_VISIT(self->fallback);
    Py_VISIT(self->nothing);
    return 0;
}

static int
resolver_clear(Resolver *self)
{
    Py_CLEAR(self->table);
    Py_CLEAR(self->fallback);
    Py_CLEAR(self->nothing);
    return 0;
}

PyDoc_STRVAR(resolver_doc,
"Resolver(table, fallback, nothing, top_edges)\n--\n\n"
"``StateMachine.resolve(path, method)`` for a path of a common shape: the\n"
"entries of ``table`` for its first segment; any other call or case is\n"
"``fallback``'s (the Python method), with the same arguments.");

static PyTypeObject ResolverType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "kettle.routing._resolve.Resolver",
    .tp_basicsize = sizeof(Resolver),
    .tp_dealloc = kettle_gc_dealloc,
    .tp_vectorcall_offset = offsetof(Resolver, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = resolver_doc,
    .tp_traverse = (traverseproc)resolver_traverse,
    .tp_clear = (inquiry)resolver_clear,
    .tp_new = resolver_new,
};

static int
module_exec(PyObject *module)
{
    if (slash == NULL) {
        slash = PyUnicode_FromString("/");
        double_slash = PyUnicode_FromString("//");
        if (slash == NULL || double_slash == NULL) {
            return -1;
        }
    }
    return kettle_add_type(module, &ResolverType, "Resolver");
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "kettle.routing._resolve",
    .m_doc = "The common shape of a dynamic path, resolved in C (optional).",
    .m_size = 0,
    .m_slots = slots,
};

PyMODINIT_FUNC
PyInit__resolve(void)
{
    return PyModuleDef_Init(&module_def);
}
