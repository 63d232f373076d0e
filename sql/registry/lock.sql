-- Serialise registry changes (promotions) for the rest of the transaction.
LOCK TABLE model_versions IN SHARE ROW EXCLUSIVE MODE;
