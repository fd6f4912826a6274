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


def test_a_final_that_starts_the_sentence_over_loses_the_copy():
    from captioner.engine.streaming import CommitPolicy, drop_restatement

    committed = "横手市の災害対策本部の電話は、"
    assert drop_restatement(committed, committed + "横手市の災害対042の780の0394です") == committed + "042の780の0394です"
    assert drop_restatement(committed, committed + "0719の横手市の災害対7000です") == committed + "0719の7000です"
    ordinary = "住民票の写しと、"
    assert drop_restatement(ordinary, ordinary + "住民票の除票です") == ordinary + "住民票の除票です"  # 4 shared: a word
    policy = CommitPolicy()
    policy.update(committed + "042")
    policy.update(committed + "042の")
    assert policy.committed == committed
    assert policy.final(committed + "横手市の災害対策本部の電話は042の780です") == committed + "042の780です"
