# Placeholder until the OUI index generator lands: no embedded vendor data yet.
set(DUPLEX_OUI_SOURCES "")
