// Nothing: what a Native AOT process costs to start and exit.
return 0;
