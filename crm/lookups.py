from django.db.models import CharField, Lookup


@CharField.register_lookup
class Like(Lookup):
    """`field__like=pattern`: SQL LIKE with backslash escapes (see crm.text.wildcard_to_like).

    On PostgreSQL the trigram indexes of migration 0002 serve it, leading wildcard included.
    """

    lookup_name = "like"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} LIKE {rhs} ESCAPE '\\'", [*lhs_params, *rhs_params]
