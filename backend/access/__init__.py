"""The access kernel: who is asking (`subject`) and whom they may act for (`rules`).

Every front door (the app, a paired TV, the phone line) resolves its caller to one `Subject`;
every acts-for question (see, order for, manage settings, staff of a community) is answered
here and returns one `Grant`. It reads the people, membership and family-link tables and
nothing of any domain's services."""
