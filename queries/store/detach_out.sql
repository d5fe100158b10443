-- Close the new store's file once everything is copied into it.
detach store_out
