"""Retention of negative information (征信业管理条例 Art. 16) and erasure on request (PIPL
Art. 47): the rules live in :mod:`ledger_service.regulation.rules` (pure, used by intake and
queries too); here the expiry report (:mod:`.report`), the duties that
refuse an erasure on request (:mod:`.duties`), erasure with an anchored erasure record signed
by the service key (:mod:`.erasure`, :mod:`.service_key`), the run (:mod:`.run`) and the
reports of runs and erasures (:mod:`.listings`). docs/regulation.md."""
