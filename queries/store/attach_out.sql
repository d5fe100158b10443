-- Attach the new store's file ($path) to copy the prepared database into it.
attach $path as store_out
