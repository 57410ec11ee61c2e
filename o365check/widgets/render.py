"""The panels' HTML helpers live in ``o365check.rendering`` (the support report uses them without ipywidgets)."""

from o365check.rendering import badge, diagnosis_html, entry, kv_table, link, linked, message, pre, steps_table

__all__ = ["badge", "diagnosis_html", "entry", "kv_table", "link", "linked", "message", "pre", "steps_table"]
