/* A view's text as a response, and what an adapter sends of a response, in C (optional).
 *
 * Two accelerators of the hot request path, each a callable object that keeps
 * its Python twin (``__wrapped__``) and calls it, with the same arguments, for
 * every case it does not handle itself; the constants both use are given to
 * the constructor by the Python module (none is written here).
 *
 * TextResponse: ``kettle.http._fast_response.text_response(cls, text)``,
 * ``cls(text)`` built in ``Response.__init__``'s steps for a class in
 * TEXT_CLASSES. Here as there: ``object.__new__(cls)``, ``text.encode()``
 * (strict UTF-8: a lone surrogate raises the same UnicodeEncodeError), a
 * Headers made with ``object.__new__`` whose ``_list`` is ``[type_pair,
 * (length_name, length)]``, then the attributes in the Python function's
 * order: ``headers``, (the Headers' ``_list``), ``_status_code``, ``_status``,
 * ``direct_passthrough``, ``has_close_callbacks``, ``response``, each stored
 * as PyObject_SetAttr stores it (``set_attr``: a class's ``__setattr__`` or a
 * descriptor runs as it would). The fallback gets a call of another form
 * (keywords, another count), a ``cls`` that is not a type using
 * ``object.__new__`` (``object.__new__`` raises or refuses there: the Python
 * function says how), a ``text`` that is not exactly a str (its ``encode``
 * may be another), and a Headers class that has been given a ``__new__`` of
 * its own.
 *
 * PrepareSend: ``kettle.http.sending.prepare_send(response, method,
 * as_code=False)`` for the common response: its class in PLAIN_STATUS (the
 * very dict; a class not in it goes to the fallback, which learns it), a
 * ``_status_code`` that is an int 200 or more other than 204 and 304, a
 * method (a str) other than HEAD, a list body, headers of the class Headers
 * itself whose ``_list`` is a list, ``direct_passthrough`` False, and either
 * Content-Length as the last header or a body of one bytes item with
 * Content-Length as the second header. The answer is then ``(status, the
 * headers' list, the body)``, the status being ``_status`` (or ``_status_code``
 * with ``as_code``): what the Python function returns for such a response. The
 * attributes are read in the Python function's order with PyObject_GetAttr
 * (an error raised by a read is the answer, as there); every other case, an
 * ``as_code`` that is not a bool or a method that is not exactly a str
 * included, is the fallback's. It stops reading at the first check that
 * fails, and the fallback reads again what it read: the same values for a
 * response's plain attributes (a property with side effects would run twice).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "_accelerator.h"
#include "structmember.h"
#include <stddef.h>
#include <string.h>

/* Interned attribute names, made once (module_exec). */
static PyObject *s_headers, *s_list, *s_status_code, *s_status, *s_direct_passthrough,
    *s_has_close_callbacks, *s_response, *s_as_code;
static PyObject *empty_tuple; /* object.__new__'s arguments: none */

/* ``object.__new__(cls)`` exactly, for a type whose ``__new__`` is object's own. */
static PyObject *
new_object(PyObject *cls)
{
    return PyBaseObject_Type.tp_new((PyTypeObject *)cls, empty_tuple, NULL);
}

/* ``PyObject_SetAttr(obj, name, value)`` for an interned str ``name``: that function
 * interns the name and calls the type's tp_setattro, which this calls itself (a
 * class's ``__setattr__`` or a descriptor runs as it would). */
static int
set_attr(PyObject *obj, PyObject *name, PyObject *value)
{
    setattrofunc set = Py_TYPE(obj)->tp_setattro;
    return set != NULL ? set(obj, name, value) : PyObject_SetAttr(obj, name, value);
}

/* Two str of the same text? The comparison of ``==`` for exact str (one text has one
 * representation: another kind is another text), which cannot fail. */
static int
same_text(PyObject *a, PyObject *b)
{
    if (a == b) {
        return 1;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(a);
    int kind = PyUnicode_KIND(a);
    return length == PyUnicode_GET_LENGTH(b) && kind == PyUnicode_KIND(b) &&
           memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)length * kind) == 0;
}

/* True when ``cls`` is a type that ``object.__new__(cls)`` builds as object's tp_new does:
 * a class with a ``__new__`` of its own (or a static base with one) has another. */
static int
built_by_object_new(PyObject *cls)
{
    return PyType_Check(cls) && ((PyTypeObject *)cls)->tp_new == PyBaseObject_Type.tp_new;
}

/* ---------------------------------------------------------------- TextResponse */

typedef struct {
    PyObject_HEAD
    PyObject *fallback;      /* the Python text_response */
    PyObject *headers_class; /* kettle.http.headers.Headers */
    PyObject *type_pair;     /* _DEFAULT_TYPE_PAIR: the Content-Type header, shared */
    PyObject *length_name;   /* "Content-Length" */
    PyObject *length_values; /* LENGTH_VALUES: tuple, str(n) at index n */
    PyObject *status_code;   /* 200 */
    PyObject *status_line;   /* "200 OK" */
    vectorcallfunc vectorcall;
} TextResponse;

/* The Content-Length value of ``size`` bytes: ``length_value`` (headers.py) written out. */
static PyObject *
length_text(TextResponse *self, Py_ssize_t size)
{
    if (size < PyTuple_GET_SIZE(self->length_values)) {
        return Py_NewRef(PyTuple_GET_ITEM(self->length_values, size));
    }
    return PyUnicode_FromFormat("%zd", size);
}

/* The Headers of the response: ``object.__new__(Headers)`` with ``_list`` set. */
static PyObject *
new_headers(TextResponse *self, Py_ssize_t size)
{
    PyObject *length = length_text(self, size);
    if (length == NULL) {
        return NULL;
    }
    PyObject *pair = PyTuple_Pack(2, self->length_name, length);
    Py_DECREF(length);
    if (pair == NULL) {
        return NULL;
    }
    PyObject *pairs = PyList_New(2);
    if (pairs == NULL) {
        Py_DECREF(pair);
        return NULL;
    }
    PyList_SET_ITEM(pairs, 0, Py_NewRef(self->type_pair));
    PyList_SET_ITEM(pairs, 1, pair); /* (Stolen.) */
    return pairs;
}

static PyObject *
text_response_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf,
                         PyObject *kwnames)
{
    TextResponse *self = (TextResponse *)callable;
    if (PyVectorcall_NARGS(nargsf) != 2 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames)) ||
        !built_by_object_new(args[0]) || !PyUnicode_CheckExact(args[1]) ||
        !built_by_object_new(self->headers_class)) {
        return PyObject_Vectorcall(self->fallback, args, nargsf, kwnames);
    }
    PyObject *made = NULL, *pairs = NULL, *body = NULL, *data = NULL;
    PyObject *response = new_object(args[0]);
    if (response == NULL) {
        return NULL;
    }
    data = PyUnicode_AsUTF8String(args[1]); /* ``text.encode()``: same bytes, same errors. */
    if (data == NULL) {
        goto error;
    }
    made = new_object(self->headers_class);
    if (made == NULL || set_attr(response, s_headers, made) < 0) {
        goto error;
    }
    pairs = new_headers(self, PyBytes_GET_SIZE(data));
    if (pairs == NULL || set_attr(made, s_list, pairs) < 0) {
        goto error;
    }
    if (set_attr(response, s_status_code, self->status_code) < 0 ||
        set_attr(response, s_status, self->status_line) < 0 ||
        set_attr(response, s_direct_passthrough, Py_False) < 0 ||
        set_attr(response, s_has_close_callbacks, Py_False) < 0) {
        goto error;
    }
    body = PyList_New(1);
    if (body == NULL) {
        goto error;
    }
    PyList_SET_ITEM(body, 0, data); /* (Stolen.) */
    data = NULL;
    if (set_attr(response, s_response, body) < 0) {
        goto error;
    }
    Py_DECREF(body);
    Py_DECREF(pairs);
    Py_DECREF(made);
    return response;
error:
    Py_XDECREF(body);
    Py_XDECREF(pairs);
    Py_XDECREF(made);
    Py_XDECREF(data);
    Py_DECREF(response);
    return NULL;
}

static PyObject *
text_response_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"fallback",    "headers_class", "type_pair",   "length_name",
                               "length_values", "status_code", "status_line", NULL};
    PyObject *fallback, *headers_class, *type_pair, *length_name, *length_values,
        *status_code, *status_line;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO!OUO!OU:TextResponse", keywords,
                                     &fallback, &PyType_Type, &headers_class, &type_pair,
                                     &length_name, &PyTuple_Type, &length_values,
                                     &status_code, &status_line)) {
        return NULL;
    }
    TextResponse *self = (TextResponse *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->fallback = Py_NewRef(fallback);
    self->headers_class = Py_NewRef(headers_class);
    self->type_pair = Py_NewRef(type_pair);
    self->length_name = Py_NewRef(length_name);
    PyUnicode_InternInPlace(&self->length_name); /* One object with PrepareSend's: ``is``. */
    self->length_values = Py_NewRef(length_values);
    self->status_code = Py_NewRef(status_code);
    self->status_line = Py_NewRef(status_line);
    self->vectorcall = text_response_vectorcall;
    return (PyObject *)self;
}

static int
text_response_traverse(TextResponse *self, visitproc visit, void *arg)
{
    Py_VISIT(self->fallback);
    Py_VISIT(self->headers_class);
    Py_VISIT(self->type_pair);
    Py_VISIT(self->length_name);
    Py_VISIT(self->length_values);
    Py_VISIT(self->status_code);
    Py_VISIT(self->status_line);
    return 0;
}

static int
text_response_clear(TextResponse *self)
{
    Py_CLEAR(self->fallback);
    Py_CLEAR(self->headers_class);
    Py_CLEAR(self->type_pair);
    Py_CLEAR(self->length_name);
    Py_CLEAR(self->length_values);
    Py_CLEAR(self->status_code);
    Py_CLEAR(self->status_line);
    return 0;
}

static PyMemberDef text_response_members[] = {
    {"__wrapped__", T_OBJECT, offsetof(TextResponse, fallback), READONLY,
     "The Python function: every call this object does not answer itself."},
    {NULL},
};

PyDoc_STRVAR(text_response_doc,
"TextResponse(fallback, headers_class, type_pair, length_name, length_values,\n"
"             status_code, status_line)\n--\n\n"
"``text_response(cls, text)``: ``cls(text)`` built in ``Response.__init__``'s\n"
"steps; any other call is ``fallback``'s (the Python function).");

static PyTypeObject TextResponseType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "kettle.http._response.TextResponse",
    .tp_basicsize = sizeof(TextResponse),
    .tp_dealloc = kettle_gc_dealloc,
    .tp_vectorcall_offset = offsetof(TextResponse, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = text_response_doc,
    .tp_traverse = (traverseproc)text_response_traverse,
    .tp_clear = (inquiry)text_response_clear,
    .tp_members = text_response_members,
    .tp_new = text_response_new,
};

/* ----------------------------------------------------------------- PrepareSend */

typedef struct {
    PyObject_HEAD
    PyObject *fallback;      /* the Python prepare_send */
    PyObject *plain_status;  /* PLAIN_STATUS: the dict itself (cleared in place, refilled) */
    PyObject *headers_class; /* kettle.http.headers.Headers */
    PyObject *length_name;   /* "Content-Length" */
    PyObject *head;          /* "HEAD" */
    vectorcallfunc vectorcall;
} PrepareSend;

/* Is ``pair``'s name (``pair[0]``) Content-Length? 1 or 0; -1: not known here (a pair
 * that is not a tuple, a name that is not exactly a str: Python's ``==`` may differ). */
static int
names_length(PrepareSend *self, PyObject *pair)
{
    if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) == 0) {
        return -1;
    }
    PyObject *name = PyTuple_GET_ITEM(pair, 0);
    if (!PyUnicode_CheckExact(name)) {
        return -1;
    }
    return same_text(name, self->length_name);
}

static PyObject *
prepare_send_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf,
                        PyObject *kwnames)
{
    PrepareSend *self = (PrepareSend *)callable;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    Py_ssize_t nkeywords = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    PyObject *as_code;
    if (nargs == 2 && nkeywords == 0) {
        as_code = Py_False;
    }
    else if ((nargs == 3 && nkeywords == 0) ||
             (nargs == 2 && nkeywords == 1 &&
              same_text(PyTuple_GET_ITEM(kwnames, 0), s_as_code))) {
        as_code = args[2];
    }
    else {
        return PyObject_Vectorcall(self->fallback, args, nargsf, kwnames);
    }
    PyObject *response = args[0], *method = args[1];
    /* What needs no attribute read first: an as_code whose truth is known, a method
     * other than HEAD, a class whose ``status`` and ``status_code`` read the fields. */
    if ((as_code != Py_True && as_code != Py_False) || !PyUnicode_CheckExact(method) ||
        same_text(method, self->head)) {
        return PyObject_Vectorcall(self->fallback, args, nargsf, kwnames);
    }
    int plain = PyDict_Contains(self->plain_status, (PyObject *)Py_TYPE(response));
    if (plain <= 0) {
        /* Not learned yet (the fallback learns it), or a class whose hash fails: the
         * fallback raises that error itself, after its own reads. */
        if (plain < 0) {
            PyErr_Clear();
        }
        return PyObject_Vectorcall(self->fallback, args, nargsf, kwnames);
    }
    PyObject *code = NULL, *status = NULL, *body = NULL, *headers_object = NULL,
             *headers = NULL, *passthrough = NULL, *result = NULL;
    int fall_back = 1;
    /* The reads, in the Python function's order; a check that fails goes to the fallback
     * at once, so no more is read than there. */
    code = PyObject_GetAttr(response, s_status_code);
    if (code == NULL) {
        fall_back = 0;
        goto done;
    }
    if (!PyLong_CheckExact(code)) {
        goto done;
    }
    int overflow;
    long number = PyLong_AsLongAndOverflow(code, &overflow); /* (An exact int: no error.) */
    if (overflow || number < 200 || number == 204 || number == 304) {
        goto done; /* A huge code, 1xx, 204 or 304: the Python function's body rules. */
    }
    fall_back = 0; /* From here an error raised by a read is the answer. */
    status = as_code == Py_True ? Py_NewRef(code) : PyObject_GetAttr(response, s_status);
    if (status == NULL) {
        goto done;
    }
    body = PyObject_GetAttr(response, s_response);
    if (body == NULL) {
        goto done;
    }
    headers_object = PyObject_GetAttr(response, s_headers);
    if (headers_object == NULL) {
        goto done;
    }
    if ((PyObject *)Py_TYPE(headers_object) != self->headers_class) {
        fall_back = 1; /* Replaced by an extension: ``own_headers`` converts it. */
        goto done;
    }
    headers = PyObject_GetAttr(headers_object, s_list);
    if (headers == NULL) {
        goto done;
    }
    if (!PyList_CheckExact(headers) || !PyList_CheckExact(body)) {
        fall_back = 1;
        goto done;
    }
    passthrough = PyObject_GetAttr(response, s_direct_passthrough);
    if (passthrough == NULL) {
        goto done;
    }
    fall_back = 1;
    if (passthrough != Py_False) {
        goto done;
    }
    /* No code runs from here to the answer: the lists cannot change meanwhile. */
    Py_ssize_t count = PyList_GET_SIZE(headers);
    int last = count ? names_length(self, PyList_GET_ITEM(headers, count - 1)) : 0;
    if (last < 0) {
        goto done;
    }
    if (!last) {
        /* A view's text with headers added after it: Content-Length second. */
        PyObject *only = PyList_GET_SIZE(body) == 1 ? PyList_GET_ITEM(body, 0) : NULL;
        if (only == NULL || !PyBytes_CheckExact(only) || count < 2 ||
            names_length(self, PyList_GET_ITEM(headers, 1)) != 1) {
            goto done; /* A scan, an encoding or a length to add: the fallback's. */
        }
    }
    fall_back = 0;
    result = PyTuple_Pack(3, status, headers, body);
done:
    Py_XDECREF(code);
    Py_XDECREF(status);
    Py_XDECREF(body);
    Py_XDECREF(headers_object);
    Py_XDECREF(headers);
    Py_XDECREF(passthrough);
    if (fall_back) {
        return PyObject_Vectorcall(self->fallback, args, nargsf, kwnames);
    }
    return result;
}

static PyObject *
prepare_send_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"fallback", "plain_status", "headers_class",
                               "length_name", "head", NULL};
    PyObject *fallback, *plain_status, *headers_class, *length_name, *head;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO!O!UU:PrepareSend", keywords, &fallback,
                                     &PyDict_Type, &plain_status, &PyType_Type,
                                     &headers_class, &length_name, &head)) {
        return NULL;
    }
    if (!PyUnicode_CheckExact(length_name) || !PyUnicode_CheckExact(head)) {
        PyErr_SetString(PyExc_TypeError, "PrepareSend: length_name and head must be str");
        return NULL;
    }
    PrepareSend *self = (PrepareSend *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->fallback = Py_NewRef(fallback);
    self->plain_status = Py_NewRef(plain_status);
    self->headers_class = Py_NewRef(headers_class);
    self->length_name = Py_NewRef(length_name);
    PyUnicode_InternInPlace(&self->length_name); /* TextResponse's pairs hold this one. */
    self->head = Py_NewRef(head);
    self->vectorcall = prepare_send_vectorcall;
    return (PyObject *)self;
}

static int
prepare_send_traverse(PrepareSend *self, visitproc visit, void *arg)
{
    Py_VISIT(self->fallback);
    Py_VISIT(self->plain_status);
    Py_VISIT(self->headers_class);
    Py_VISIT(self->length_name);
    Py_VISIT(self->head);
    return 0;
}

static int
prepare_send_clear(PrepareSend *self)
{
    Py_CLEAR(self->fallback);
    Py_CLEAR(self->plain_status);
    Py_CLEAR(self->headers_class);
    Py_CLEAR(self->length_name);
    Py_CLEAR(self->head);
    return 0;
}

static PyMemberDef prepare_send_members[] = {
    {"__wrapped__", T_OBJECT, offsetof(PrepareSend, fallback), READONLY,
     "The Python function: every call this object does not answer itself."},
    {NULL},
};

PyDoc_STRVAR(prepare_send_doc,
"PrepareSend(fallback, plain_status, headers_class, length_name, head)\n--\n\n"
"``prepare_send(response, method, as_code=False)`` for a common response\n"
"(a list body with its Content-Length); any other call or case is\n"
"``fallback``'s (the Python function), with the same arguments.");

static PyTypeObject PrepareSendType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "kettle.http._response.PrepareSend",
    .tp_basicsize = sizeof(PrepareSend),
    .tp_dealloc = kettle_gc_dealloc,
    .tp_vectorcall_offset = offsetof(PrepareSend, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = prepare_send_doc,
    .tp_traverse = (traverseproc)prepare_send_traverse,
    .tp_clear = (inquiry)prepare_send_clear,
    .tp_members = prepare_send_members,
    .tp_new = prepare_send_new,
};

/* ---------------------------------------------------------------------- module */

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
    if (intern(&s_headers, "headers") < 0 || intern(&s_list, "_list") < 0 ||
        intern(&s_status_code, "_status_code") < 0 || intern(&s_status, "_status") < 0 ||
        intern(&s_direct_passthrough, "direct_passthrough") < 0 ||
        intern(&s_has_close_callbacks, "has_close_callbacks") < 0 ||
        intern(&s_response, "response") < 0 || intern(&s_as_code, "as_code") < 0) {
        return -1;
    }
    if (empty_tuple == NULL && (empty_tuple = PyTuple_New(0)) == NULL) {
        return -1;
    }
    if (kettle_add_type(module, &TextResponseType, "TextResponse") < 0) {
        return -1;
    }
    return kettle_add_type(module, &PrepareSendType, "PrepareSend");
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "kettle.http._response",
    .m_doc = "A view's text as a response, and what an adapter sends of one, in C (optional).",
    .m_size = 0,
    .m_slots = slots,
};

PyMODINIT_FUNC
PyInit__response(void)
{
    return PyModuleDef_Init(&module_def);
}
