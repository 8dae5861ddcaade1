"""Layer 4, book: the read-only view of a store (Summary, chapter), tables, figures and prose
sentences. Computes nothing; reads what the stages wrote."""
