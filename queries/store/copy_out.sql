-- Copy every table, view and macro of the prepared (in-memory) database into the new store's file.
copy from database memory to store_out
