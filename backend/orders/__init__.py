"""What a shop order and a service booking share: opening one for an elder (who it is for,
where it goes, who pays), and telling the elder, whoever ordered and the staff as it moves.
Commerce and services each keep their own rules (stock and meals; slots and visits)."""
