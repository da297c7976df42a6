"""Online experiments: two embedding models compared on live search traffic.

An experiment names two variants (the embedding model ids of two collections), a traffic
split and a mode: `ab` (each user sees one variant) or `interleaving` (each search shows
one list interleaving both variants by team draft, each click credited to the variant that
contributed the clicked result). Assignment is a stable hash of the user id (the session
id when there is no user); the report compares searches, CTR, the mean reciprocal rank of
clicks and the share of zero-click searches, with significance figures.
"""
