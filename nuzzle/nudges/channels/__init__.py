"""The ways a nudge reaches a person. Each channel sits behind the small interface in
`base.py` (render one message, open a session for a batch, send through it and say
what each send's outcome means), so delivery (`nuzzle.nudges.delivery`) and planning
never know which channel they are feeding. Email (`email.py`) is the first."""
