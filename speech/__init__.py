"""Speech engines: text-to-speech today (speech recognition next). Imports nothing of backend,
so the phone-line door (voice/), the TV channel and the backend can all use them."""
