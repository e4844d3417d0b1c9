"""Signed model versions: the statement a publisher signs for each version (`statement`), and
each bank's key behind one small interface (`base`): a KMS key in AWS (`kms`), a local key
pair elsewhere (`local`), the key ring choosing between them (`keys`). The ECDSA operations
themselves are in `ecdsa`.

The function's trust anchor is the key its settings name for a bank (a KMS key ARN, or a
public key file outside the model store), never anything read from the model store.
"""
