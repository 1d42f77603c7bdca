"""The pages a signed-in person can open without an id in the path, for the tests that
walk them all (privacy after unpairing, right-to-left words, the browser's policy)."""

SIGNED_IN_PAGES = (
    "/",
    "/checkin/",
    "/history/",
    "/question/",
    "/questions/",
    "/lovemap/",
    "/lovemap/mine/",
    "/lovemap/partner/",
    "/account/",
    "/account/nudges/",
    "/account/data/",
    "/account/delete/",
    "/couple/",
    "/couple/unpair/",
    "/invite/",
)
