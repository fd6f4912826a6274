"""The commit policy, driven by hand-written hypotheses (no audio, no model)."""

from captioner.engine.streaming import CommitPolicy


def test_nothing_is_committed_from_a_single_hypothesis():
    policy = CommitPolicy()
    assert policy.update("おはようございます、") == ""


def test_agreed_text_is_committed_up_to_a_phrase_boundary():
    policy = CommitPolicy()
    policy.update("おはようございます、周南")
    assert policy.update("おはようございます、集団市") == "おはようございます、"


def test_committed_text_never_changes_or_shrinks():
    policy = CommitPolicy()
    hypotheses = [
        "本日の受付は、",
        "本日の受付は、午後五時",
        "本日の受付は、午後5時15分まで。",
        "本日の受付は、午後5時15分まで。となって",
        "全く違う文",
    ]
    seen = ""
    for hypothesis in hypotheses:
        committed = policy.update(hypothesis)
        assert committed.startswith(seen)
        seen = committed
    assert seen == "本日の受付は、午後5時15分まで。"


def test_long_agreement_without_boundary_commits_all_but_the_last_characters():
    policy = CommitPolicy(commit_without_boundary_chars=8)
    policy.update("あいうえおかきくけこさし")
    assert policy.update("あいうえおかきくけこさしす") == "あいうえおかきく"


def test_final_keeps_the_committed_prefix():
    policy = CommitPolicy()
    policy.update("はい、わかりました")
    policy.update("はい、わかりましたか")
    assert policy.final("はい、わかりました。") == "はい、わかりました。"
    assert policy.final("いいえ") == "はい、"
