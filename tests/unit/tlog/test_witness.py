"""The witness's decision on real signed checkpoints: extensions accepted and cosigned, a
forked log signed with the real log key raises an alarm, everything else is refused."""

from __future__ import annotations

from credit_ledger_verify.merkle import build_tree
from credit_ledger_verify.tlog import (
    AddCheckpointRequest,
    Checkpoint,
    CheckpointPolicy,
    MerkleTree,
    SignerKey,
    Verdict,
    Witness,
    WitnessDecision,
    WitnessState,
    sign_checkpoint,
    verify_checkpoint,
)

from tests.unit.tlog.golden import LOG_SIGNER, POLICY, WITNESS_SIGNERS

NOW = 1_767_225_600
WITNESS = Witness(WITNESS_SIGNERS[0], [LOG_SIGNER.verifier])
HONEST = build_tree([f"record {i}".encode() for i in range(40)])
# A fork: the same first 20 leaves, then different ones.
FORK = build_tree([f"record {i}".encode() for i in range(20)] + [b"forged"] * 20)


def _note(tree: MerkleTree, size: int, key: SignerKey = LOG_SIGNER) -> bytes:
    return sign_checkpoint(Checkpoint(key.name, size, tree.root_at(size)), key)


def _submit(state: WitnessState | None, tree: MerkleTree, size: int) -> WitnessDecision:
    old = state.checkpoint.size if state is not None else 0
    proof = tuple(tree.consistency_proof(old, size)) if old <= size else ()
    return WITNESS.add_checkpoint(state, AddCheckpointRequest(old, proof, _note(tree, size)), NOW)


def _state(tree: MerkleTree, size: int) -> WitnessState:
    decision = _submit(None, tree, size)
    assert decision.verdict is Verdict.ACCEPT
    assert decision.state is not None
    return decision.state


def test_first_checkpoint_then_extensions_are_cosigned() -> None:
    state = _state(HONEST, 10)
    for size in (10, 11, 16, 40):
        decision = _submit(state, HONEST, size)
        assert (decision.verdict, decision.reason, decision.http_status) == (
            Verdict.ACCEPT,
            "consistent",
            200,
        )
        assert decision.state is not None
        assert decision.cosignature is not None
        assert decision.state.checkpoint.size == size
        state = decision.state
        cosigned = state.note + decision.cosignature.line().encode()
        policy = CheckpointPolicy(POLICY.log_key, POLICY.witness_keys, 1)
        verified = verify_checkpoint(cosigned, policy)
        assert [(c.name, c.timestamp) for c in verified.cosignatures] == [
            (WITNESS_SIGNERS[0].name, NOW)
        ]


def test_split_view_same_size_other_root_raises_an_alarm() -> None:
    state = _state(HONEST, 30)
    request = AddCheckpointRequest(30, (), _note(FORK, 30))
    decision = WITNESS.add_checkpoint(state, request, NOW)
    assert (decision.verdict, decision.reason) == (Verdict.ALARM, "split_view")
    assert decision.cosignature is None
    assert decision.state == state
    assert decision.evidence == (state.note, request.note)


def test_inconsistent_extension_raises_an_alarm() -> None:
    state = _state(HONEST, 30)
    # The forked log proves 30 -> 40 in its own tree: it cannot reach the witnessed root.
    request = AddCheckpointRequest(30, tuple(FORK.consistency_proof(30, 40)), _note(FORK, 40))
    decision = WITNESS.add_checkpoint(state, request, NOW)
    assert (decision.verdict, decision.reason, decision.http_status) == (
        Verdict.ALARM,
        "inconsistent_extension",
        422,
    )
    assert decision.evidence == (state.note, request.note)


def test_refusals_keep_the_state_and_name_the_reason() -> None:
    state = _state(HONEST, 30)
    stranger = SignerKey(LOG_SIGNER.name, LOG_SIGNER.key_type, b"\x07" * 32)
    other_log = SignerKey("credit-ledger.example/other/ledger", 1, b"\x08" * 32)
    proof = tuple(HONEST.consistency_proof(30, 35))
    cases = {
        "smaller_than_witnessed": AddCheckpointRequest(20, (), _note(HONEST, 20)),
        "old_size_too_large": AddCheckpointRequest(36, proof, _note(HONEST, 35)),
        "old_size_mismatch": AddCheckpointRequest(29, proof, _note(HONEST, 35)),
        "bad_proof": AddCheckpointRequest(30, proof[:-1], _note(HONEST, 35)),
        "bad_signature": AddCheckpointRequest(30, proof, _note(HONEST, 35, stranger)),
        "unknown_origin": AddCheckpointRequest(30, proof, _note(HONEST, 35, other_log)),
        "malformed": AddCheckpointRequest(30, proof, _note(HONEST, 35)[:-1]),
    }
    for reason, request in cases.items():
        decision = WITNESS.add_checkpoint(state, request, NOW)
        assert (decision.verdict, decision.reason) == (Verdict.REFUSE, reason), decision.message
        assert decision.state == state
        assert decision.cosignature is None


def test_add_checkpoint_body_round_trips() -> None:
    request = AddCheckpointRequest(7, tuple(HONEST.consistency_proof(7, 12)), _note(HONEST, 12))
    assert AddCheckpointRequest.parse(request.encode()) == request
    decision = WITNESS.add_checkpoint(
        None, AddCheckpointRequest.parse(b"old 3\n\n" + _note(HONEST, 5)), NOW
    )
    assert (decision.verdict, decision.reason) == (Verdict.REFUSE, "old_size_mismatch")
