"""The ways out to outside services (SMS, push, payments): an interface each and its adapters,
handed to whoever needs them by the composition root. They import no domain."""
