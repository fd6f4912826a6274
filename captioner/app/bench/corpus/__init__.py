"""The generated evaluation corpus: counter sentences with real town names and distractors,
spoken by two synthesizers with reverb and noise, split by city into tune and heldout
(``captioner.app.bench.corpus.build``)."""
