"""Reads for love maps, one module per job; each reads with a fixed number of queries
whatever the number of topics answered.

- `topics`: the published topics, in the product's order of areas.
- `maps`: my map and my map of my partner (unseen, changed, current).
- `freshness`: per area, what is stale in mine and how current I am on my partner's.
- `batch`: set-based reads over many people or couples at once, for the nudges, the
  weekly recap and the daily question's lean.
- `export`: everything I wrote, for the export of my data.

A read for one person starts from `LovemapEntry.objects.mine(user)` (my own answers)
or the `PartnerEntry` view (my partner's, as I may see them: the database decides the
status and seals the text); those in `batch` read many people or couples at once, by
their ids.
"""
