"""Export/restore engine: plain classes with no ORM state, driven by the models.

One concept a module (its tests: ``tests/test_engine_<module>.py``):

- ``errors``: the one error hierarchy and its translatable messages;
- ``cells``: field types to cells of a file and back, formula neutralisation;
- ``manifest``: the format, ``manifest.json`` and its checks;
- ``exporter``: an object's rows from SQL (``ExportObject``, ``ExportField``);
- ``writer``: CSV and XLSX files; ``archive``: the backup zip;
- ``reader``: a backup zip checked and read back, row by row;
- ``planner``: backup rows against the database (``RestoreField``, ``Plan``);
- ``applier``: the plan written through a target, the undo file;
- ``compare``: two sides' rows merged by external ID (added, deleted, changed).
"""
