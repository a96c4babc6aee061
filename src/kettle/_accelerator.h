/* What Kettle's C accelerators do alike (setup.py's ACCELERATORS lists them). */
#ifndef KETTLE_ACCELERATOR_H
#define KETTLE_ACCELERATOR_H

#include <Python.h>

/* Ready the static type ``type`` and add it to ``module`` as ``name``: 0, or -1 with an
 * error set. */
static inline int
kettle_add_type(PyObject *module, PyTypeObject *type, const char *name)
{
    if (PyType_Ready(type) < 0) {
        return -1;
    }
    Py_INCREF(type);
    if (PyModule_AddObject(module, name, (PyObject *)type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    return 0;
}

/* The tp_dealloc of a garbage-collected object: untracked, its tp_clear, freed. */
static inline void
kettle_gc_dealloc(PyObject *self)
{
    PyObject_GC_UnTrack(self);
    Py_TYPE(self)->tp_clear(self);
    Py_TYPE(self)->tp_free(self);
}

#endif
