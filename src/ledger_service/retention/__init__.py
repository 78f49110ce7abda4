"""Retention of negative information (征信业管理条例 Art. 16): the rules (:mod:`.rules`) and
the dry-run expiry report (:mod:`.report`). Deletion is not built yet (docs/regulation.md)."""
