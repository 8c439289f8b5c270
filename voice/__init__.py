"""The phone-line door: the voice assistant on the community's phone line. It may call backend
services; the speech engines it uses live in `speech/`."""
