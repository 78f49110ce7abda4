"""The regulations' pure rules, used by every layer above the index: which records are
negative information and when their conduct ended, "5 years to the day" in China time
(:mod:`.rules`, 征信业管理条例 Art. 16), and the answer period of an objection
(:mod:`.deadlines`, Art. 25). No database, no clock (docs/regulation.md)."""
