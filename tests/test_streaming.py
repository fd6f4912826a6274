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


def test_continuation_follows_the_part_that_lines_up_with_the_committed_text():
    from captioner.engine.streaming import continuation

    # the free decode heard the committed part differently; only what comes after it is new
    assert continuation("周南市悪所の、", "周南市役所の、窓口です") == "窓口です"
    assert continuation("周南市悪所の、", "周南市役所の窓口です") == "窓口です"  # punctuation is no difference
    assert continuation("はい、", "はい わかりました") == "わかりました"
    assert continuation("", "窓口です") == "窓口です"
    assert continuation("はい、", "はい、わかりました") == "わかりました"
    assert continuation("はい、わかりました", "はい") == ""


def test_free_final_keeps_committed_text_and_takes_the_free_continuation():
    policy = CommitPolicy()
    policy.update("周南市悪所の、窓口")
    policy.update("周南市悪所の、窓口で")
    assert policy.committed == "周南市悪所の、"
    # forced: a final that does not continue the committed text is not shown
    assert policy.final("周南市役所の、窓口です") == "周南市悪所の、"
    assert policy.final("周南市役所の、窓口です", forced=False) == "周南市悪所の、窓口です"
    assert policy.final("", forced=False) == "周南市悪所の、"


def test_commit_agreement_three_needs_three_agreeing_partials():
    policy = CommitPolicy(agreement=3)
    assert policy.update("はい、わか") == ""
    assert policy.update("はい、わかり") == ""
    assert policy.update("はい、わかりま") == "はい、"
    never = CommitPolicy(agreement=0)
    for text in ("はい、わか", "はい、わかり", "はい、わかりま"):
        assert never.update(text) == ""
    assert never.final("はい、わかりました", forced=False) == "はい、わかりました"


def test_ends_sentence_tells_a_finished_sentence_from_a_pause_inside_one():
    from captioner.engine.streaming import ends_sentence

    for text in ("一か月ほどかかります", "受付は五時までです。", "よろしいでしょうか", "ご確認ください、",
                 "お持ちになりましたか？", "お済みでしたか", "お越しくださいね。", "そうですよね。"):
        assert ends_sentence(text), text
    # Whisper ends whatever it heard before a pause with 。: punctuation is not the speaker's
    for text in ("鹿野にお住まいの方は", "身体障害者手帳の交付には、", "申請から", "受付番号は3番ですので。", "こちらの用紙は。", "何日か", "ですが", ""):
        assert not ends_sentence(text), text


def test_stops_mid_sentence_hears_a_sentence_going_on():
    from captioner.engine.streaming import stops_mid_sentence

    # a particle, a て/で form or a conjunction before the pause; Whisper's 。 after it aside
    for text in ("鹿野にお住まいの方は", "身体障害者手帳の交付には、", "申請から", "受付番号は3番ですので。", "書類を書いて。", "一通300円で", "お名前と"):
        assert stops_mid_sentence(text), text
    for text in ("一か月ほどかかります", "受付は五時までです。", "よろしいでしょうか", "はい", "市役所", "3番窓口", ""):
        assert not stops_mid_sentence(text), text
